import Engine
import Foundation

/// `bench.sleep`: passes each record through after sleeping a set time. Tasks that cost a
/// known wall time and no CPU show what the engine itself adds per task (scheduling, the
/// wire, result handling) when there are more executors than cores. A test and benchmark
/// operator: registered only with `TestOperators`.
public struct SleepOperator: MapOperator {
    public struct Parameters: Codable, Sendable {
        public var milliseconds: Int
        /// Inputs that sleep for their own time instead (a straggler among quick tasks).
        public var perInput: [String: Int]?
        public init(milliseconds: Int, perInput: [String: Int]? = nil) {
            self.milliseconds = milliseconds
            self.perInput = perInput
        }
    }
    public typealias Input = String
    public typealias Output = String

    public static let name = "bench.sleep"
    public let milliseconds: Int
    public let perInput: [String: Int]

    public init(parameters: Parameters) throws {
        guard parameters.milliseconds >= 0, parameters.perInput?.values.allSatisfy({ $0 >= 0 }) != false else {
            throw OperatorError.badParameters(operator: Self.name, reason: "milliseconds must be >= 0")
        }
        milliseconds = parameters.milliseconds
        perInput = parameters.perInput ?? [:]
    }

    public func map(_ input: String, context: TaskContext) throws -> String {
        let milliseconds = perInput[input] ?? milliseconds
        if milliseconds > 0 { usleep(useconds_t(milliseconds) * 1000) }
        return input
    }
}

/// A job of `tasks` one-record tasks of `bench.sleep` (`sextant bench sleep-job`).
public struct SleepJob: Codable, Sendable {
    public var tasks: Int
    public var milliseconds: Int

    public init(tasks: Int, milliseconds: Int) {
        self.tasks = tasks
        self.milliseconds = milliseconds
    }

    /// The engine's description of this job.
    public func description() throws -> JobDescription {
        let step = OperatorStep(name: SleepOperator.name,
                                parameters: try JSONEncoder().encode(SleepOperator.Parameters(milliseconds: milliseconds)))
        return JobDescription(partitionCount: tasks, inputs: { ["\($0)"] }, steps: [step])
    }
}
