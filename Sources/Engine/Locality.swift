import Foundation

/// Delay scheduling for inputs that live on one executor's own disk (Spark's locality wait,
/// kept short as Kira found a long wait costs more than it saves).
///
/// A partition whose inputs fall under an executor's `localPaths` is that executor's to run
/// first. Another executor may take it only once the preferred executors have launched no
/// local task for `wait` seconds (they are busy, stalled or gone). Jobs without preferences,
/// or clusters whose executors name no local paths, pay nothing: the tables stay empty.
struct LocalityTable {
    let wait: TimeInterval
    /// Partition -> executors that hold its inputs locally; only partitions that have one.
    private(set) var preferred: [Int: [ExecutorID]] = [:]
    /// Executor -> its local partitions, in order, not yet handed out.
    private var queues: [ExecutorID: [Int]] = [:]
    /// Preferred partitions another executor passed over, to look at again when the wait expires.
    private(set) var deferred: [Int] = []
    private var lastLocalLaunch: [ExecutorID: DispatchTime] = [:]

    init(wait: TimeInterval) { self.wait = wait }

    var isEmpty: Bool { preferred.isEmpty }
    var hasQueuedWork: Bool { !deferred.isEmpty || queues.values.contains { !$0.isEmpty } }

    /// Records which of `partitions` are local to which of `executors`.
    mutating func assign(partitions: Range<Int>, inputs: (Int) -> [String], executors: [ExecutorInfo]) {
        let withPaths = executors.filter { !$0.localPaths.isEmpty }
        guard !withPaths.isEmpty else { return }
        for partition in partitions {
            let paths = inputs(partition)
            let holders = withPaths.filter { executor in
                paths.contains { path in executor.localPaths.contains { path.hasPrefix($0) } }
            }.map(\.id)
            guard !holders.isEmpty else { continue }
            var known = preferred[partition] ?? []
            for holder in holders where !known.contains(holder) {
                known.append(holder)
                queues[holder, default: []].append(partition)
            }
            preferred[partition] = known
        }
    }

    /// The next of `executor`'s own local partitions that `isRunnable` accepts.
    mutating func nextLocal(for executor: ExecutorID, isRunnable: (Int) -> Bool) -> Int? {
        while var queue = queues[executor], !queue.isEmpty {
            let partition = queue.removeFirst()
            queues[executor] = queue
            if isRunnable(partition) {
                lastLocalLaunch[executor] = .now()
                return partition
            }
        }
        return nil
    }

    /// Whether `executor` may run `partition` now: it has no preference, the executor is one of
    /// its holders, or every holder is gone or has launched nothing local for `wait` seconds.
    func mayRun(_ partition: Int, on executor: ExecutorID, isAlive: (ExecutorID) -> Bool) -> Bool {
        guard let holders = preferred[partition], !holders.contains(executor) else { return true }
        let now = DispatchTime.now().uptimeNanoseconds
        return holders.allSatisfy { holder in
            guard isAlive(holder) else { return true }
            let last = lastLocalLaunch[holder]?.uptimeNanoseconds ?? 0
            return Double(now &- last) / 1e9 >= wait
        }
    }

    mutating func postpone(_ partition: Int) { deferred.append(partition) }

    /// The first deferred partition `executor` may now run; drops ones no longer runnable.
    mutating func nextDeferred(for executor: ExecutorID, isRunnable: (Int) -> Bool,
                               isAlive: (ExecutorID) -> Bool) -> Int? {
        deferred.removeAll { !isRunnable($0) }
        guard let slot = deferred.firstIndex(where: { mayRun($0, on: executor, isAlive: isAlive) }) else { return nil }
        return deferred.remove(at: slot)
    }
}
