import Foundation

/// Names one executor process (or, in local mode, the in-process slot pool).
public typealias ExecutorID = String

/// Identifies one attempt of one task. Attempt ids fence results: a result whose
/// attempt is no longer the live one for its partition is discarded.
public struct TaskAttemptID: Hashable, Codable, Sendable, CustomStringConvertible {
    public var jobID: String
    public var partition: Int
    /// Unique within the job and never reused, so a late result can always be told apart.
    public var attempt: Int

    public init(jobID: String, partition: Int, attempt: Int) {
        self.jobID = jobID
        self.partition = partition
        self.attempt = attempt
    }

    public var description: String { "\(jobID)/p\(partition)/a\(attempt)" }
}

/// One narrow transformation in a lineage chain: an operator named in the
/// registry plus its JSON-encoded parameters. Names travel; code does not.
public struct OperatorStep: Codable, Sendable, Hashable {
    public var name: String
    public var parameters: Data

    public init(name: String, parameters: Data) {
        self.name = name
        self.parameters = parameters
    }
}

/// Everything an executor needs to compute one partition: the source records
/// (input URIs) and the chain of operators to apply to them.
public struct TaskSpec: Codable, Sendable {
    public var id: TaskAttemptID
    /// The partition's source records, usually input URIs.
    public var inputs: [String]
    /// Applied in order to the inputs; the last step's output is the task's result.
    public var steps: [OperatorStep]
    /// Job-wide settings an operator may read (output location, store endpoint, ...).
    public var settings: [String: String]
    /// True when this attempt is a speculative copy of a still-running attempt.
    public var speculative: Bool
    /// How many partitions this task may hand back (`TaskContext.addPartitions`); nil: none.
    public var maxAddedPartitions: Int?

    public init(id: TaskAttemptID, inputs: [String], steps: [OperatorStep],
                settings: [String: String] = [:], speculative: Bool = false) {
        self.id = id
        self.inputs = inputs
        self.steps = steps
        self.settings = settings
        self.speculative = speculative
    }
}

/// What came of one task attempt.
public enum TaskOutcome: Codable, Sendable {
    /// The records of the last step, each JSON-encoded.
    case success(records: [Data])
    /// The operator threw, the input could not be read, or the executor gave up.
    case failure(message: String)
}

public struct TaskResult: Codable, Sendable {
    public var id: TaskAttemptID
    public var executor: ExecutorID
    public var outcome: TaskOutcome
    /// Wall-clock seconds the attempt ran on the executor.
    public var duration: Double
    /// New partitions a successful attempt hands back (`TaskContext.addPartitions`), each its source records.
    public var addedPartitions: [[String]]?

    public init(id: TaskAttemptID, executor: ExecutorID, outcome: TaskOutcome, duration: Double) {
        self.id = id
        self.executor = executor
        self.outcome = outcome
        self.duration = duration
    }
}
