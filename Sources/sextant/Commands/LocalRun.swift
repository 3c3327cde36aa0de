import ArgumentParser
import Engine
import Foundation
import Pipeline

/// `sextant run --master local[N]`: the driver and N task slots in this process.
enum LocalRun {
    static func run(_ spec: JobSpec, master: String, configuration: Configuration, logEvery: Int) throws {
        var engineSettings = try EngineSettings(configuration)
        // local[N] names the slots; local[*] means sextant.local.slots, else one per core.
        let slots = try LocalBackend.slots(forMaster: master) ?? engineSettings.localSlots
            ?? ProcessInfo.processInfo.activeProcessorCount
        engineSettings.localSlots = slots
        let registry = OperatorRegistry()
        ExtractionDriver.registerOperators(in: registry)
        let backend = LocalBackend(registry: registry, slots: slots)

        let driver = ExtractionDriver(spec: spec, engineSettings: engineSettings)
        let progress = ProgressReporter(total: spec.inputs.count, logEvery: logEvery)
        driver.onEntry = { entry in progress.record(succeeded: entry.outcome != .failed, sources: entry.rows ?? 0) }
        let interrupt = InterruptHandler { driver.cancel() }
        defer { interrupt.remove() }

        let report: JobReport
        do {
            report = try driver.run(backend: backend)
        } catch {
            Console.error("\(error)")
            throw ExitCode(ExitStatus.unusable)
        }
        print(report.summary)
        try exit(for: report, interrupted: interrupt.fired)
    }

    static func exit(for report: JobReport, interrupted: Bool) throws {
        if interrupted { throw ExitCode(ExitStatus.interrupted) }
        switch report.status {
        case .succeeded: return
        case .completedWithFailures, .stopped: throw ExitCode(ExitStatus.someFailed)
        }
    }
}

/// Ctrl-C (or SIGTERM) once: stop cleanly (a job writes its manifest, a daemon leaves its
/// master). Twice: leave now.
final class InterruptHandler: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private(set) var fired = false

    init(message: String = "\nsextant: stopping: finishing the manifest (Ctrl-C again to quit at once)",
         onInterrupt: @escaping () -> Void) {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                if self.fired { Foundation.exit(ExitStatus.interrupted) }
                self.fired = true
                Console.info(message)
                onInterrupt()
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
