import Foundation

/// Everything the monitor knows about one job, built only from its events (live or replayed).
///
/// Bounded by design for survey-sized jobs: per-job aggregates (counts, sums, per-executor
/// figures, the slowest tasks), every running attempt, a window of the `taskWindow` most
/// recently ended attempts and of the first `failureWindow` failed inputs, and 16 bytes an
/// input (a hash of its name, its outcome and counts) so an input reported twice (a lost
/// catalog recomputed) is counted once.
public struct JobState: Sendable {
    /// Ended task attempts kept for the UI and `GET /api/v1/jobs/{id}/tasks` (older ones are counted only).
    public static let defaultTaskWindow = 2000
    /// Failed inputs kept with their messages (beyond it they are counted only).
    public static let defaultFailureWindow = 1000

    public let id: String
    public var submitted: Date?
    public var started: Date?
    public var finished: Date?
    /// running until a jobEnd event says otherwise (the host may know better: queued, interrupted).
    public var status = "running"
    public var message = ""
    public var output: String?
    public var inputsTotal = 0
    public let taskWindow: Int
    public let failureWindow: Int
    /// Per input: outcome, rows and bytes, under a hash of its name (`InputTally`).
    private var tallies: [Int: InputTally] = [:]
    private var failedInputs: [String: InputRecord] = [:]
    /// Attempts running now, by partition/attempt/executor.
    private var running: [String: TaskRecord] = [:]
    private var ended = RecentWindow<TaskRecord>(capacity: 0)
    /// The longest ended attempts, longest first.
    public private(set) var slowest: [TaskRecord] = []
    /// Attempts that ended, all of them (the window keeps the latest `taskWindow`).
    public private(set) var tasksEnded = 0
    public private(set) var executors: [String: ExecutorFigures] = [:]
    // Kept as events arrive so a page for a million-input job does not count them again.
    private var outcomeCounts: [InputRecord.Outcome: Int] = [:]
    public private(set) var sources = 0
    public private(set) var bytesWritten = 0
    public private(set) var tasksRunning = 0
    /// Frame-table rows, in arrival order, at most `FrameList.limit`; the rest are only counted.
    public private(set) var frames: [FrameRecord] = []
    public private(set) var framesDropped = 0

    public init(id: String, taskWindow: Int = JobState.defaultTaskWindow,
                failureWindow: Int = JobState.defaultFailureWindow) {
        self.id = id
        self.taskWindow = max(0, taskWindow)
        self.failureWindow = max(0, failureWindow)
        ended = RecentWindow(capacity: self.taskWindow)
    }

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
            tallies = [:]  // the counts are final: a finished job keeps no per-input state
            for var task in running.values.sorted(by: Self.taskOrder) {
                task.outcome = "cancelled"
                task.duration = event.time.timeIntervalSince(task.started)
                keep(ended: task)
                executors[task.executor]?.tasksRunning -= 1
                tasksRunning -= 1
            }
            running = [:]
        case .taskStart:
            guard let task = TaskRecord(starting: event) else { return false }
            let key = Self.key(event)
            if running[key] != nil {
                executors[task.executor]?.tasksRunning -= 1
                tasksRunning -= 1
            }
            running[key] = task
            executors[task.executor, default: ExecutorFigures(executor: task.executor)].tasksRunning += 1
            tasksRunning += 1
        case .taskEnd:
            // An end whose start was never seen is kept as it came; after the job's end, ignored.
            guard finished == nil || running[Self.key(event)] != nil else { return false }
            let key = Self.key(event)
            let started = running.removeValue(forKey: key)
            let wasStarted = started != nil
            guard var task = started ?? TaskRecord(starting: event) else { return false }
            task.outcome = event.outcome ?? "succeeded"
            task.duration = event.duration ?? event.time.timeIntervalSince(task.started)
            task.message = event.message
            task.inputs = event.inputNames ?? []
            keep(ended: task)
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
            let tally = InputTally(record)
            if let earlier = tallies.updateValue(tally, forKey: record.input.hashValue) { count(earlier, sign: -1) }
            count(tally, sign: 1)
            if record.outcome == .failed, failedInputs.count < failureWindow || failedInputs[record.input] != nil {
                failedInputs[record.input] = record
            } else if record.outcome != .failed {
                failedInputs[record.input] = nil
            }
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
        // Partition numbers restart in each stage of a job with shuffles.
        "\(event.stage ?? 0)/\(event.partition ?? -1)/\(event.attempt ?? 0)/\(event.executor ?? "")"
    }

    private mutating func keepFrames(_ rows: [FrameRecord]) {
        let room = max(0, FrameList.limit - frames.count)
        frames += rows.prefix(room)
        framesDropped += rows.count - min(room, rows.count)
    }

    // MARK: Figures

    private mutating func count(_ tally: InputTally, sign: Int) {
        outcomeCounts[tally.outcome, default: 0] += sign
        guard tally.outcome == .committed else { return }
        sources += sign * Int(tally.rows)
        bytesWritten += sign * Int(tally.bytes)
    }

    private mutating func keep(ended task: TaskRecord) {
        tasksEnded += 1
        ended.append(task)
        let duration = task.duration ?? 0
        guard slowest.count < Self.slowestKept || duration > (slowest.last?.duration ?? 0) else { return }
        let index = slowest.firstIndex { ($0.duration ?? 0) < duration } ?? slowest.endIndex
        slowest.insert(task, at: index)
        if slowest.count > Self.slowestKept { slowest.removeLast() }
    }

    static let slowestKept = 10
    private static func taskOrder(_ a: TaskRecord, _ b: TaskRecord) -> Bool {
        (a.partition, a.attempt, a.executor) < (b.partition, b.attempt, b.executor)
    }

    public func count(_ outcome: InputRecord.Outcome) -> Int { outcomeCounts[outcome] ?? 0 }

    /// Inputs with a catalog: committed now or by an earlier run.
    public var inputsDone: Int { count(.committed) + count(.skipped) }
    public var inputsFailed: Int { count(.failed) }

    /// Failed inputs, by name: the first `failureWindow` of them (`inputsFailed` counts them all).
    public var failures: [InputRecord] {
        failedInputs.values.sorted { $0.input < $1.input }
    }

    /// Seconds from start to end (or to `now` while it runs).
    public func duration(now: Date = Date()) -> Double? {
        started.map { (finished ?? now).timeIntervalSince($0) }
    }

    /// The attempts kept: every running one and the latest `taskWindow` ended, by partition then attempt.
    public var taskList: [TaskRecord] {
        (Array(running.values) + ended.elements).sorted(by: Self.taskOrder)
    }

    public var runningTasks: [TaskRecord] { Array(running.values) }

    /// Attempts kept (running and the ended window).
    public var tasksKept: Int { running.count + ended.count }

    /// Ended attempts, longest first (kept as they end, so never more than a sort of ten).
    public func slowestTasks(_ limit: Int = 10) -> [TaskRecord] { Array(slowest.prefix(limit)) }

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

/// What the monitor keeps of every input: 16 bytes.
private struct InputTally {
    var outcome: InputRecord.Outcome
    var rows: Int32
    var bytes: Int64

    init(_ record: InputRecord) {
        outcome = record.outcome
        rows = Int32(clamping: record.rows ?? 0)
        bytes = Int64(record.bytes ?? 0)
    }
}

/// The latest `capacity` elements appended, oldest first, in a ring.
struct RecentWindow<Element: Sendable>: Sendable {
    let capacity: Int
    private var storage: [Element] = []
    private var next = 0

    init(capacity: Int) { self.capacity = capacity }

    var count: Int { storage.count }

    mutating func append(_ element: Element) {
        guard capacity > 0 else { return }
        if storage.count < capacity {
            storage.append(element)
        } else {
            storage[next] = element
            next = (next + 1) % capacity
        }
    }

    var elements: [Element] { Array(storage[next...] + storage[..<next]) }
}
