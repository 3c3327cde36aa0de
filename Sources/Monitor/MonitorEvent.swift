import Foundation

/// One thing that happened to a job, as the monitor records it: the unit of the event log
/// (one JSON line each) and of every figure the UI, API and metrics show. Replaying a job's
/// events rebuilds its page, which is how history survives a restart.
public struct MonitorEvent: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case jobStart, jobEnd, taskStart, taskEnd, input, executorAdded, executorLost
    }

    public var event: Kind
    public var time: Date
    public var job: String

    // jobStart
    public var submitted: Date?
    public var inputs: Int?
    public var partitions: Int?
    public var output: String?
    // jobEnd: status; taskEnd, input: outcome
    public var status: String?
    public var message: String?
    // taskStart, taskEnd
    public var partition: Int?
    /// The DAG stage a task ran in (a job with shuffles: `JOB.sSTAGE.ATTEMPT`); nil in a one-stage job.
    public var stage: Int?
    public var attempt: Int?
    public var speculative: Bool?
    public var duration: Double?
    public var outcome: String?
    public var inputNames: [String]?
    // executorAdded, executorLost; also the executor of a task or input
    public var executor: String?
    public var host: String?
    public var cores: Int?
    // input
    public var input: String?
    public var rows: Int?
    public var bytes: Int?
    public var seconds: Double?
    public var frames: [FrameRecord]?

    public init(_ event: Kind, job: String, time: Date = Date()) {
        self.event = event
        self.job = job
        self.time = time
    }
}

extension MonitorEvent {
    public static func jobStart(_ job: String, inputs: Int, output: String, submitted: Date? = nil,
                                time: Date = Date()) -> MonitorEvent {
        var event = MonitorEvent(.jobStart, job: job, time: time)
        event.inputs = inputs
        event.output = output
        event.submitted = submitted ?? time
        return event
    }

    public static func jobEnd(_ job: String, status: String, message: String = "", time: Date = Date()) -> MonitorEvent {
        var event = MonitorEvent(.jobEnd, job: job, time: time)
        event.status = status
        event.message = message
        return event
    }

    public static func input(_ job: String, _ record: InputRecord, time: Date = Date()) -> MonitorEvent {
        var event = MonitorEvent(.input, job: job, time: time)
        event.input = record.input
        event.outcome = record.outcome.rawValue
        event.rows = record.rows
        event.bytes = record.bytes
        event.seconds = record.seconds
        event.executor = record.executor
        event.message = record.error
        event.attempt = record.attempts
        event.frames = record.frames
        return event
    }

    /// The input record an `.input` event carries.
    var inputRecord: InputRecord? {
        guard event == .input, let input, let outcome = outcome.flatMap(InputRecord.Outcome.init(rawValue:)) else {
            return nil
        }
        return InputRecord(input: input, outcome: outcome, attempts: attempt ?? 1, rows: rows, bytes: bytes,
                           seconds: seconds, executor: executor, error: message, frames: frames)
    }
}
