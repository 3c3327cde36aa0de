import Engine
import Foundation
import Logging
import NIOCore

/// The executors connected to the master, and the backends (the running jobs) that hear about them.
///
/// Every change and the event it causes happen under one lock, and events go to the backend's
/// serial queue in that order: an executor is always added before its results, and once it is
/// declared lost nothing more from that connection is delivered.
/// @unchecked: `lock` guards `entries`, `listeners`, `sequence` and `launchCounts`.
final class ExecutorRegistry: @unchecked Sendable {
    private struct Entry {
        var info: ExecutorInfo
        let channel: Channel
        var lastSeen: NIODeadline
        var draining = false
    }

    private let lock = NSLock()
    private var entries: [ExecutorID: Entry] = [:]
    private var listeners: [ClusterBackend] = []
    private var sequence = 0
    private var launchCounts = LaunchCounts()
    /// Shares the executors' slots among the running jobs; told of every executor and result here.
    let slots: SlotArbiter

    init(pools: [PoolDefinition] = [], logger: Logger = Logger(label: "sextant.master")) {
        slots = SlotArbiter(pools: pools, logger: logger)
        slots.send = { [unowned self] tasks, id in launch(tasks, on: id) }
        slots.cancelRemote = { [unowned self] attempt, id in _ = send(.cancelTask(attempt), to: id) }
    }

    var executors: [ExecutorInfo] {
        lock.lock(); defer { lock.unlock() }
        return entries.values.map(\.info).sorted { $0.id < $1.id }
    }

    /// A fresh id, never reused while this master runs, so a reconnecting executor is a new one
    /// to the scheduler (its old attempts stay fenced).
    /// Seconds since each registered executor was last heard from (heartbeat or result).
    var heartbeatAges: [ExecutorID: Double] {
        lock.withLock {
            let now = NIODeadline.now()
            return entries.mapValues { Double((now - $0.lastSeen).nanoseconds) / 1e9 }
        }
    }

    func makeID(host: String) -> ExecutorID {
        lock.lock(); defer { lock.unlock() }
        sequence += 1
        return "exec-\(sequence)@\(host)"
    }

    func add(_ info: ExecutorInfo, channel: Channel) {
        lock.lock(); defer { lock.unlock() }
        entries[info.id] = Entry(info: info, channel: channel, lastSeen: .now())
        // What it queues counts as assigned, so pools' shares include it.
        slots.executorAdded(info.id, cores: info.cores, queued: info.queuedTasks ?? 0)
        post(.added(info))
    }

    /// Notes that the executor spoke, keeping it alive.
    func touch(_ id: ExecutorID, channel: Channel) {
        lock.lock(); defer { lock.unlock() }
        if entries[id]?.channel === channel { entries[id]?.lastSeen = .now() }
    }

    /// Passes results (one frame of them) on, unless their connection has already been declared lost.
    @discardableResult
    func deliver(_ results: [TaskResult], from id: ExecutorID, channel: Channel) -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard entries[id]?.channel === channel else { return false }
        entries[id]?.lastSeen = .now()
        launchCounts.resultFrames += 1
        launchCounts.results += results.count
        // Trust the connection, not the body.
        let stamped = results.map { result in
            var result = result
            result.executor = id
            return result
        }
        slots.released(stamped.map(\.id), on: id, durations: stamped.compactMap { result in
            if case .success = result.outcome { return result.duration }
            return nil
        })
        post(.finished(stamped))
        return true
    }

    /// Queued attempts a draining executor never started: their slots free, and their jobs run them elsewhere.
    func handBack(_ ids: [TaskAttemptID], from id: ExecutorID, channel: Channel) {
        lock.lock(); defer { lock.unlock() }
        guard entries[id]?.channel === channel else { return }
        entries[id]?.lastSeen = .now()
        slots.released(ids, on: id)
        post(.returned(ids, id))
    }

    /// Forgets an executor whose connection ended. False when it was already gone.
    @discardableResult
    func remove(_ id: ExecutorID, channel: Channel, reason: String) -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard entries[id]?.channel === channel else { return false }
        entries[id] = nil
        slots.executorRemoved(id)
        post(.lost(id, reason))
        return true
    }

    /// Declares lost every executor silent for longer than `timeout`; returns their channels to close.
    func expire(olderThan timeout: TimeAmount) -> [(ExecutorID, Channel)] {
        lock.lock(); defer { lock.unlock() }
        let cutoff = NIODeadline.now() - timeout
        let stale = entries.filter { $0.value.lastSeen < cutoff }
        for (id, _) in stale {
            entries[id] = nil
            slots.executorRemoved(id)
            let seconds = Double(timeout.nanoseconds) / 1e9
            post(.lost(id, "no heartbeat for \(seconds) s (sextant.network.timeout)"))
        }
        return stale.map { ($0.key, $0.value.channel) }
    }

    /// Sends to a live executor; false when it is gone (its loss has then already been posted).
    func send(_ message: Message, to id: ExecutorID) -> Bool {
        lock.lock()
        let channel = entries[id]?.channel
        lock.unlock()
        guard let channel else { return false }
        channel.writeAndFlush(message, promise: nil)
        return true
    }

    /// Sends tasks to a live executor, all in one frame. A batch too large for one frame goes again
    /// a task per frame; a spec too large for one frame alone comes back as a failed result.
    /// False when the executor is gone (its loss has then already been posted).
    func launch(_ tasks: [TaskSpec], on id: ExecutorID) -> Bool {
        lock.lock()
        let channel = entries[id]?.channel
        if channel != nil {
            launchCounts.frames += 1
            launchCounts.tasks += tasks.count
            launchCounts.largestFrame = max(launchCounts.largestFrame, tasks.count)
        }
        lock.unlock()
        guard let channel else { return false }
        // Even one task goes as a batch: its binary body is cheaper than launchTask's JSON.
        channel.writeAndFlush(Message.launchTasks(tasks)).whenFailure { [self] error in
            guard case WireError.frameTooLarge(let size, let limit) = error else { return }
            guard tasks.count == 1 else {
                for task in tasks { _ = launch([task], on: id) }
                return
            }
            let failure = TaskResult(id: tasks[0].id, executor: id, outcome: .failure(
                message: "the task (\(size) bytes) exceeds sextant.network.maxFrameBytes (\(limit))"), duration: 0)
            deliver([failure], from: id, channel: channel)
        }
        return true
    }

    /// Launch frames sent and the tasks in them, since the master started (batching at work).
    var launches: LaunchCounts { lock.withLock { launchCounts } }

    /// Every running job's backend hears of every executor; each keeps only the results of its own attempts.
    private func post(_ event: ClusterBackend.Event) {
        for listener in listeners { listener.post(event) }
    }

    /// Adds `backend` to the listeners and reports every executor already here to it.
    func attach(_ backend: ClusterBackend) {
        lock.lock(); defer { lock.unlock() }
        listeners.append(backend)
        for entry in entries.values.sorted(by: { $0.info.id < $1.info.id }) {
            backend.post(.added(entry.info))
            if entry.draining { backend.post(.draining(entry.info.id)) }
        }
    }

    /// The executor is leaving: the running job, and any later one, launches nothing more on it.
    func drain(_ id: ExecutorID, channel: Channel) {
        lock.lock(); defer { lock.unlock() }
        guard entries[id]?.channel === channel else { return }
        entries[id]?.draining = true
        entries[id]?.lastSeen = .now()
        post(.draining(id))
    }

    func detach(_ backend: ClusterBackend) {
        lock.lock(); defer { lock.unlock() }
        listeners.removeAll { $0 === backend }
    }
}

/// How many launch frames the master has sent, and how many tasks they carried; and the result frames it received.
public struct LaunchCounts: Equatable, Sendable {
    public var frames = 0
    public var tasks = 0
    /// The most tasks one frame carried (more than an executor's cores: its queue was filled too).
    public var largestFrame = 0
    /// Frames of results delivered from live executors, and the results in them.
    public var resultFrames = 0
    public var results = 0
}
