import Engine
import Foundation

/// Turns one job's scheduler events into monitor events tagged with the host's job id
/// (a host may run several engine jobs under one id: DAG stage attempts).
final class EngineEventListener: JobListener, Sendable {
    let jobID: String
    let monitor: Monitor
    let inputNames: @Sendable ([Data]) -> [String]

    init(jobID: String, monitor: Monitor, inputNames: @escaping @Sendable ([Data]) -> [String]) {
        self.jobID = jobID
        self.monitor = monitor
        self.inputNames = inputNames
    }

    /// STAGE of a stage attempt's scheduler job `\(jobID).sSTAGE.ATTEMPT`; nil for the job itself.
    func stageNumber(_ engineJobID: String) -> Int? { Self.stage(of: engineJobID, job: jobID) }

    static func stage(of engineJobID: String, job: String) -> Int? {
        guard engineJobID.hasPrefix(job + ".s") else { return nil }
        let rest = engineJobID.dropFirst(job.count + 2)
        return rest.split(separator: ".").first.flatMap { Int($0) }
    }

    func jobStarted(_ event: JobStartEvent) {
        // The host reports the job's start itself (it knows its inputs and output).
    }

    func taskStarted(_ event: TaskStartEvent) {
        var record = MonitorEvent(.taskStart, job: jobID)
        record.partition = event.attempt.partition
        record.stage = stageNumber(event.attempt.jobID)
        record.attempt = event.attempt.attempt
        record.executor = event.executor
        record.speculative = event.speculative
        monitor.record(record)
    }

    func taskEnded(_ event: TaskEndEvent) {
        var record = MonitorEvent(.taskEnd, job: jobID)
        record.partition = event.attempt.partition
        record.stage = stageNumber(event.attempt.jobID)
        record.attempt = event.attempt.attempt
        record.executor = event.executor
        record.speculative = event.speculative
        record.duration = event.duration
        switch event.outcome {
        case .succeeded:
            record.outcome = "succeeded"
            record.inputNames = inputNames(event.records)
        case .failed(let message): record.outcome = "failed"; record.message = message
        case .cancelled: record.outcome = "cancelled"
        case .lost(let reason): record.outcome = "lost"; record.message = reason
        case .discarded(let reason): record.outcome = "discarded"; record.message = reason
        }
        monitor.record(record)
    }

    func executorAdded(_ info: ExecutorInfo) {
        var record = MonitorEvent(.executorAdded, job: jobID)
        record.executor = info.id
        record.host = info.host
        record.cores = info.cores
        monitor.record(record)
    }

    func executorLost(_ id: ExecutorID, reason: String) {
        var record = MonitorEvent(.executorLost, job: jobID)
        record.executor = id
        record.message = reason
        monitor.record(record)
    }
}
