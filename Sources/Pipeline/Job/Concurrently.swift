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
}
