import Engine
import Foundation

/// A source-extraction job, complete enough to run anywhere: `sextant run` builds one and
/// runs it in-process; `sextant submit` ships it to a master, whose driver runs it the same way.
public struct JobSpec: Codable, Sendable {
    public var jobID: String
    public var inputs: [InputFile]
    public var parameters: ExtractParameters
    /// Skip inputs whose catalogs are already committed (an interrupted job continues).
    public var resume: Bool
    /// Partitions by count; nil with no `partitionBytes` means one input per task,
    /// which balances best when executors pull work.
    public var partitions: Int?
    public var partitionBytes: Int64?
    /// Conf keys the tasks need (store endpoint and region, spool threshold, ...).
    public var settings: [String: String]

    public init(jobID: String = JobDescription.makeJobID(), inputs: [InputFile], parameters: ExtractParameters,
                resume: Bool = false, partitions: Int? = nil, partitionBytes: Int64? = nil,
                settings: [String: String] = [:]) {
        self.jobID = jobID
        self.inputs = inputs
        self.parameters = parameters
        self.resume = resume
        self.partitions = partitions
        self.partitionBytes = partitionBytes
        self.settings = settings
    }

    /// `settings` that may leave this process (a job shipped to a master, a task shipped to an
    /// executor): the job's own keys. Secrets stay (each node finds its own credentials), and so
    /// do process-wide and local keys (an executor's SEP stack is its own, a port is the master's).
    public var shareableSettings: [String: String] {
        settings.filter { ConfigurationKeys.travels($0.key) }
    }

    /// The task partitioning this spec asks for, over all its inputs.
    public func makePlan() throws -> PartitionPlan { try partitionPlan(for: inputs) }

    /// The task partitioning this spec asks for.
    func partitionPlan(for inputs: [InputFile]) throws -> PartitionPlan {
        if let partitionBytes {
            let sizes = Dictionary(inputs.map { ($0.uri, $0.size) }, uniquingKeysWith: { a, _ in a })
            return try PartitionPlan(records: inputs.map(\.uri),
                                     partitioning: .bytes(partitionBytes, size: { sizes[$0] ?? 0 }))
        }
        if let partitions { return try PartitionPlan(recordCount: inputs.count, partitioning: .count(partitions)) }
        return try PartitionPlan(recordCount: inputs.count, partitioning: .perRecord)
    }
}
