import Foundation

/// Watches one stage attempt's tasks: registers map outputs as they succeed (before the
/// scheduler checks them, on its queue), marks finished result partitions, and passes every
/// event on to the job's own listener.
/// @unchecked: `lock` guards `done`, `records` and `bytes`.
final class StageListener: JobListener, @unchecked Sendable {
    private let shuffleID: String?
    private let tracker: MapOutputTracker
    private let forward: (any JobListener)?
    private let lock = NSLock()
    private var done: [Bool]
    private var records = 0
    private var bytes = 0

    init(shuffleID: String?, tracker: MapOutputTracker, done: [Bool], forward: (any JobListener)?) {
        self.shuffleID = shuffleID
        self.tracker = tracker
        self.done = done
        self.forward = forward
    }

    /// Map stages: the tracker has the partition's output. Result stages: it succeeded here or before.
    func isDone(_ partition: Int) -> Bool {
        if let shuffleID { return tracker.output(shuffle: shuffleID, mapPartition: partition) != nil }
        lock.lock(); defer { lock.unlock() }
        return done[partition]
    }

    var totals: (records: Int, bytes: Int) {
        lock.lock(); defer { lock.unlock() }
        return (records, bytes)
    }

    /// A map task's records reach the job's listener without its map status (the DAG's own):
    /// only the reports its records carried (`MapSideRecord.report`).
    func taskEnded(_ event: TaskEndEvent) {
        var forwarded = event
        if case .succeeded = event.outcome {
            if let shuffleID {
                if let data = event.records.first, let status = try? JSONDecoder().decode(MapStatus.self, from: data) {
                    let output = MapOutputTracker.Output(executor: event.executor, attempt: status.attempt,
                                                         records: status.records, bytes: status.bytes)
                    tracker.add(shuffle: shuffleID, mapPartition: status.mapPartition, output: output)
                    lock.lock()
                    records += status.records
                    bytes += status.bytes
                    lock.unlock()
                }
                forwarded.records = Array(event.records.dropFirst())
                forwarded.outcome = .succeeded(records: forwarded.records.count)
            } else {
                lock.lock()
                done[event.attempt.partition] = true
                lock.unlock()
            }
        }
        forward?.taskEnded(forwarded)
    }

    func jobStarted(_ event: JobStartEvent) { forward?.jobStarted(event) }
    func taskStarted(_ event: TaskStartEvent) { forward?.taskStarted(event) }
    func executorAdded(_ info: ExecutorInfo) { forward?.executorAdded(info) }
    func executorLost(_ id: ExecutorID, reason: String) { forward?.executorLost(id, reason: reason) }
    func executorExcluded(_ id: ExecutorID, until: Date, reason: String) {
        forward?.executorExcluded(id, until: until, reason: reason)
    }
    func jobEnded(_ result: JobResult) { forward?.jobEnded(result) }
}

/// Drops the map outputs of a lost executor when they lived on its disk, so the scheduler
/// recomputes them without waiting for a reducer to fail on them.
final class ExecutorLossListener: JobListener, Sendable {
    private let tracker: MapOutputTracker
    private let store: ShuffleStore

    init(tracker: MapOutputTracker, store: ShuffleStore) {
        self.tracker = tracker
        self.store = store
    }

    func executorLost(_ id: ExecutorID, reason: String) {
        guard !store.outputsSurviveExecutorLoss else { return }
        tracker.invalidateAll(on: id)
        // Its disk is gone with it: where that disk is this process's too (local worker
        // processes), delete what it held, so a reducer reading an old location fails to
        // fetch it, as it would on another machine, and nothing is left behind.
        (store as? BlobShuffleStore)?.removeOutputs(of: id)
    }
}
