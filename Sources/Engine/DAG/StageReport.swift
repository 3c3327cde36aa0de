import Foundation

/// One attempt of one stage, as `JobResult.stages` reports it.
public struct StageReport: Codable, Sendable, Equatable {
    public enum Kind: Codable, Sendable, Equatable {
        /// Computes the map outputs of a shuffle.
        case shuffleMap(shuffleID: String)
        /// Computes the job's own partitions.
        case result
    }

    /// Stages are numbered from the first shuffle's map side (0) to the result stage.
    public var stage: Int
    /// 1 for the first attempt of the stage in this job.
    public var attempt: Int
    public var kind: Kind
    /// The scheduler job that ran this attempt (`JOB.sSTAGE.ATTEMPT`).
    public var jobID: String
    /// Partitions this attempt computed; outputs that already existed were skipped.
    public var computed: [Int]
    /// Partitions this attempt computed again after their output was lost with its executor
    /// (executor-local outputs); nil in reports from before it was recorded.
    public var recomputedAfterLoss: [Int]?
    /// The map outputs its tasks could not fetch; each is recomputed before the stage retries.
    public var fetchFailures: [MapOutputID]
    /// Map stages: records and bytes written to the shuffle by this attempt.
    public var shuffleRecords: Int
    public var shuffleBytes: Int
    public var duration: Double

    /// The shuffle a map stage writes; nil for the result stage.
    public var shuffleID: String? {
        if case .shuffleMap(let id) = kind { return id }
        return nil
    }
}

extension JobResult {
    /// The map partitions of `shuffleID` computed more than once: in a later attempt of its map
    /// stage (a reducer could not fetch them), or again within an attempt (their executor was
    /// lost with them). Sorted, each once.
    public func recomputedMapPartitions(of shuffleID: String) -> [Int] {
        let stages = (stages ?? []).filter { $0.kind == .shuffleMap(shuffleID: shuffleID) }
        let partitions = stages.filter { $0.attempt > 1 }.flatMap(\.computed) + stages.flatMap { $0.recomputedAfterLoss ?? [] }
        return Array(Set(partitions)).sorted()
    }

    /// Bytes written to every shuffle by this job.
    public var shuffleBytes: Int { (stages ?? []).reduce(0) { $0 + $1.shuffleBytes } }
}
