import Foundation

/// Everything the monitor knows about one job, built only from its events (live or replayed).
public struct JobState: Sendable {
    public let id: String
    public var submitted: Date?
    public var started: Date?
    public var finished: Date?
    /// running until a jobEnd event says otherwise (the host may know better: queued, interrupted).
    public var status = "running"
    public var message = ""
    public var output: String?
    public var inputsTotal = 0
    public private(set) var inputs: [String: InputRecord] = [:]
    public private(set) var tasks: [String: TaskRecord] = [:]
    public private(set) var executors: [String: ExecutorFigures] = [:]
    // Kept as events arrive so a page for a million-input job does not count them again.
    private var outcomeCounts: [InputRecord.Outcome: Int] = [:]
    public private(set) var sources = 0
    public private(set) var bytesWritten = 0
    public private(set) var tasksRunning = 0
    /// Frame-table rows, in arrival order, at most `FrameList.limit`; the rest are only counted.
    public private(set) var frames: [FrameRecord] = []
    public private(set) var framesDropped = 0

    public init(id: String) { self.id = id }

    /// Returns false for an event that changes nothing: a task end after its job's end closed it.
    @discardableResult
    public mutating func apply(_ event: MonitorEvent) -> Bool {
        switch event.event {
        case .jobStart:
            submitted = event.submitted ?? event.time
            started = event.time
            finished = nil
            status = "running"
            inputsTotal = event.inputs ?? inputsTotal
            output = event.output ?? output
        case .jobEnd:
            finished = event.time
            status = event.status ?? "finished"
            message = event.message ?? ""
            for (key, var task) in tasks where task.isRunning {
                task.outcome = "cancelled"
                task.duration = event.time.timeIntervalSince(task.started)
                tasks[key] = task
                executors[task.executor]?.tasksRunning -= 1
                tasksRunning -= 1
            }
        case .taskStart:
            guard let task = TaskRecord(starting: event) else { return false }
            let key = Self.key(event)
            if tasks[key]?.isRunning == true {
                executors[task.executor]?.tasksRunning -= 1
                tasksRunning -= 1
            }
            tasks[key] = task
            executors[task.executor, default: ExecutorFigures(executor: task.executor)].tasksRunning += 1
            tasksRunning += 1
        case .taskEnd:
            let key = Self.key(event)
            let wasStarted = tasks[key] != nil
            guard var task = tasks[key] ?? TaskRecord(starting: event), task.isRunning else { return false }
            task.outcome = event.outcome ?? "succeeded"
            task.duration = event.duration ?? event.time.timeIntervalSince(task.started)
            task.message = event.message
            task.inputs = event.inputNames ?? []
            tasks[key] = task
            var figures = executors[task.executor, default: ExecutorFigures(executor: task.executor)]
            if wasStarted {
                figures.tasksRunning = max(0, figures.tasksRunning - 1)
                tasksRunning -= 1
            }
            if task.outcome == "succeeded" { figures.tasksSucceeded += 1 }
            if task.outcome == "failed" { figures.tasksFailed += 1 }
            figures.taskSeconds += task.duration ?? 0
            executors[task.executor] = figures
        case .input:
            guard var record = event.inputRecord else { return false }
            keepFrames(record.frames ?? [])
            record.frames = nil  // kept once, in `frames`, not again per input
            if let earlier = inputs.updateValue(record, forKey: record.input) { count(earlier, sign: -1) }
            count(record, sign: 1)
            if record.outcome == .committed, let executor = record.executor {
                executors[executor, default: ExecutorFigures(executor: executor)].inputs += 1
                executors[executor, default: ExecutorFigures(executor: executor)].sources += record.rows ?? 0
            }
        case .executorAdded, .executorLost:
            break
        }
        return true
    }

    private static func key(_ event: MonitorEvent) -> String {
        "\(event.partition ?? -1)/\(event.attempt ?? 0)/\(event.executor ?? "")"
    }

    private mutating func keepFrames(_ rows: [FrameRecord]) {
        let room = max(0, FrameList.limit - frames.count)
        frames += rows.prefix(room)
        framesDropped += rows.count - min(room, rows.count)
    }

    // MARK: Figures

    private mutating func count(_ record: InputRecord, sign: Int) {
        outcomeCounts[record.outcome, default: 0] += sign
        guard record.outcome == .committed else { return }
        sources += sign * (record.rows ?? 0)
        bytesWritten += sign * (record.bytes ?? 0)
    }

    public func count(_ outcome: InputRecord.Outcome) -> Int { outcomeCounts[outcome] ?? 0 }

    /// Inputs with a catalog: committed now or by an earlier run.
    public var inputsDone: Int { count(.committed) + count(.skipped) }
    public var inputsFailed: Int { count(.failed) }

    /// Failed inputs, by name.
    public var failures: [InputRecord] {
        inputs.values.filter { $0.outcome == .failed }.sorted { $0.input < $1.input }
    }

    /// Seconds from start to end (or to `now` while it runs).
    public func duration(now: Date = Date()) -> Double? {
        started.map { (finished ?? now).timeIntervalSince($0) }
    }

    /// Task attempts, by partition then attempt.
    public var taskList: [TaskRecord] {
        tasks.values.sorted { ($0.partition, $0.attempt, $0.executor) < ($1.partition, $1.attempt, $1.executor) }
    }

    /// Ended attempts, longest first: one pass keeping the `limit` longest, not a sort of them all.
    public func slowestTasks(_ limit: Int = 10) -> [TaskRecord] {
        var slowest: [TaskRecord] = []
        for task in tasks.values where !task.isRunning {
            let duration = task.duration ?? 0
            guard slowest.count < limit || duration > (slowest.last?.duration ?? 0) else { continue }
            let index = slowest.firstIndex { ($0.duration ?? 0) < duration } ?? slowest.endIndex
            slowest.insert(task, at: index)
            if slowest.count > limit { slowest.removeLast() }
        }
        return slowest
    }

    public var executorList: [ExecutorFigures] { executors.values.sorted { $0.executor < $1.executor } }
}

extension TaskRecord {
    init?(starting event: MonitorEvent) {
        guard let partition = event.partition, let executor = event.executor else { return nil }
        self.init(partition: partition, attempt: event.attempt ?? 0, executor: executor,
                  speculative: event.speculative ?? false,
                  started: event.time.addingTimeInterval(-(event.event == .taskEnd ? event.duration ?? 0 : 0)),
                  duration: nil, outcome: nil, message: nil, inputs: [])
    }
}
