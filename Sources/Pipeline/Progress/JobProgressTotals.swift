import Foundation

/// A running job's totals as a master sends them to a waiting client. Cumulative, so the
/// master may coalesce them (it sends at most a few a second, the latest) and the last is exact.
/// @unchecked: `lock` guards the counts.
public final class JobProgressTotals: @unchecked Sendable {
    public struct Counts: Codable, Equatable, Sendable {
        public var done = 0
        public var failed = 0
        public var sources = 0

        public init(done: Int = 0, failed: Int = 0, sources: Int = 0) {
            self.done = done
            self.failed = failed
            self.sources = sources
        }

        /// Three integers, written by hand: this runs once an input on the master.
        public var encoded: Data { Data("{\"done\":\(done),\"failed\":\(failed),\"sources\":\(sources)}".utf8) }

        public static func decode(_ data: Data) -> Counts? { try? JSONDecoder().decode(Counts.self, from: data) }
    }

    private let lock = NSLock()
    private var counts = Counts()

    public init() {}

    /// Counts one finished input; returns the totals to send.
    public func add(_ entry: ManifestEntry) -> Counts {
        lock.lock(); defer { lock.unlock() }
        counts.done += 1
        if entry.outcome == .failed { counts.failed += 1 }
        counts.sources += entry.rows ?? 0
        return counts
    }
}
