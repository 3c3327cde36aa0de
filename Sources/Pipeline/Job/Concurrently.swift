import Foundation
import Settings

/// Two independent passes at once: `background` on a thread of its own while `body` runs on the
/// caller's. A resume at 10^6 inputs has two such pairs (listing the output while reading the
/// earlier manifest; the frame table while the manifest), and this machine two cores.
enum Concurrently {
    /// Both outcomes, once both have ended (neither is abandoned when the other throws).
    static func run<T, U>(_ background: @escaping @Sendable () throws -> T,
                          while body: () throws -> U) -> (background: Result<T, Error>, body: Result<U, Error>) {
        let result = Locked<Result<T, Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            result.value = Result { try background() }
            done.signal()
        }
        let here = Result { try body() }
        done.wait()
        return (result.value!, here)
    }

    /// Starts `work` on a thread of its own; `wait` on what this returns to join it.
    static func start(_ work: @escaping @Sendable () -> Void) -> Running {
        let running = Running()
        Thread.detachNewThread {
            work()
            running.done.signal()
        }
        return running
    }

    /// Work `start` began. `wait` returns once it has ended (at once after the first call).
    final class Running: @unchecked Sendable {
        fileprivate let done = DispatchSemaphore(value: 0)
        private let joined = Locked(false)

        func wait() {
            guard !joined.value else { return }
            done.wait()
            joined.value = true
        }
    }
}
