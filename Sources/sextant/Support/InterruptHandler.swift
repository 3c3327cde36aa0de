import Foundation
import Pipeline

/// Ctrl-C (or SIGTERM) once: stop cleanly (a job writes its manifest, a daemon leaves its
/// master). Twice: leave now.
///
/// `@unchecked Sendable`: the signal handlers run on one private serial queue, and `fired`,
/// which the command's thread reads, is guarded by `lock`.
final class InterruptHandler: @unchecked Sendable {
    private let queue = DispatchQueue(label: "sextant.interrupts")
    private let lock = NSLock()
    private var sources: [DispatchSourceSignal] = []
    private var firedFlag = false

    /// True once an interrupt arrived.
    var fired: Bool { lock.withLock { firedFlag } }

    init(message: String = "\nsextant: stopping: finishing the manifest (Ctrl-C again to quit at once)",
         onInterrupt: @escaping @Sendable () -> Void) {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
            source.setEventHandler { [weak self] in
                guard let self else { return }
                let again = self.lock.withLock { () -> Bool in
                    defer { self.firedFlag = true }
                    return self.firedFlag
                }
                if again {
                    PipeOperator.killRunningPrograms()  // leaving at once must not leave orphans
                    Foundation.exit(ExitStatus.interrupted)
                }
                Console.info(message)
                // Off the handler queue: stopping may wait (for programs that ignore SIGTERM),
                // and a second Ctrl-C must still get through at once.
                DispatchQueue.global().async { onInterrupt() }
            }
            source.resume()
            sources.append(source)
        }
    }

    func remove() {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
