import Foundation

/// The driver's record of which attempt, on which executor, holds each map partition's
/// output of each shuffle (Spark's MapOutputTracker). Reduce tasks are told these locations
/// when their stage launches, and read exactly the registered attempt's output.
///
/// Thread-safe: stage listeners write it on the scheduler's queue, the DAG scheduler reads it.
/// @unchecked: `lock` guards `shuffles`.
public final class MapOutputTracker: @unchecked Sendable {
    public struct Output: Hashable, Sendable {
        public var executor: ExecutorID
        public var attempt: String
        public var records: Int
        public var bytes: Int
    }

    private var shuffles: [String: [Output?]] = [:]
    private let lock = NSLock()

    public init() {}

    /// Starts tracking a shuffle with `mapPartitions` map outputs (keeps what it has if known).
    func register(shuffle shuffleID: String, mapPartitions: Int) {
        lock.lock(); defer { lock.unlock() }
        if shuffles[shuffleID] == nil { shuffles[shuffleID] = Array(repeating: nil, count: mapPartitions) }
    }

    /// Records a map task's output. The first registered output of a partition stays until it
    /// is invalidated: a later attempt's output (a speculative twin, a zombie of an older stage
    /// attempt) is refused, so reducers never switch under a stage. Returns true when kept.
    @discardableResult
    func add(shuffle shuffleID: String, mapPartition: Int, output: Output) -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard var outputs = shuffles[shuffleID], outputs.indices.contains(mapPartition),
              outputs[mapPartition] == nil else { return false }
        outputs[mapPartition] = output
        shuffles[shuffleID] = outputs
        return true
    }

    /// Forgets a map output a reducer could not fetch, but only if it is still the registered
    /// attempt: a fetch failure about an older attempt must not drop its replacement.
    @discardableResult
    func invalidate(_ id: MapOutputID) -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard let output = shuffles[id.shuffleID]?[safe: id.mapPartition] ?? nil, output.attempt == id.attempt else {
            return false
        }
        shuffles[id.shuffleID]![id.mapPartition] = nil
        return true
    }

    /// Forgets every output held by `executor` (it is lost and its disk with it); returns how many.
    @discardableResult
    func invalidateAll(on executor: ExecutorID) -> Int {
        lock.lock(); defer { lock.unlock() }
        var dropped = 0
        for (shuffleID, outputs) in shuffles {
            var kept = outputs
            for index in kept.indices where kept[index]?.executor == executor {
                kept[index] = nil
                dropped += 1
            }
            shuffles[shuffleID] = kept
        }
        return dropped
    }

    public func output(shuffle shuffleID: String, mapPartition: Int) -> Output? {
        lock.lock(); defer { lock.unlock() }
        return shuffles[shuffleID]?[safe: mapPartition] ?? nil
    }

    /// Map partitions of `shuffleID` with no registered output, in order.
    public func missing(shuffle shuffleID: String) -> [Int] {
        lock.lock(); defer { lock.unlock() }
        return (shuffles[shuffleID] ?? []).indices.filter { shuffles[shuffleID]![$0] == nil }
    }

    /// Every map output's location, or nil while one is missing.
    func locations(shuffle shuffleID: String) -> [MapLocation]? {
        lock.lock(); defer { lock.unlock() }
        guard let outputs = shuffles[shuffleID] else { return nil }
        var locations: [MapLocation] = []
        locations.reserveCapacity(outputs.count)
        for output in outputs {
            guard let output else { return nil }
            locations.append(MapLocation(executor: output.executor, attempt: output.attempt))
        }
        return locations
    }

    func remove(shuffle shuffleID: String) {
        lock.lock(); defer { lock.unlock() }
        shuffles[shuffleID] = nil
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
