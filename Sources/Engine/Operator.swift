import Foundation

/// A transformation of one partition's records, registered by name so that a task can
/// name it: closures cannot travel between processes, names and Codable parameters can.
///
/// Driver and executors run the same binary and register the same operators, so a
/// `TaskSpec` that says "apply `sky-stats` with these parameters" means the same code everywhere.
///
/// Swift does not always infer the associated types across files (notably `Parameters`
/// from `init(parameters: NoParameters)`); when it says a type "does not conform", spell
/// them out: `typealias Parameters = NoParameters`, `typealias Input = String`, ...
public protocol PartitionOperator {
    associatedtype Parameters: Codable = NoParameters
    associatedtype Input: Codable
    associatedtype Output: Codable

    /// The registry key; unique among the operators a binary registers.
    static var name: String { get }

    /// Builds the operator from its parameters; throw to fail the task with a clear message.
    /// An executor builds it once for the tasks that carry the same parameters and applies it
    /// to them concurrently: an operator holds no state that `apply` changes.
    init(parameters: Parameters) throws

    /// Computes the output records of one partition from its input records.
    func apply(_ inputs: [Input], context: TaskContext) throws -> [Output]
}

/// Parameters for operators that need none.
public struct NoParameters: Codable, Hashable, Sendable {
    public init() {}
}

/// An operator that turns each record into exactly one record (`Dataset.map`).
public protocol MapOperator: PartitionOperator {
    // Restated so that conforming types get them inferred from `map`.
    associatedtype Input
    associatedtype Output
    func map(_ input: Input, context: TaskContext) throws -> Output
}

extension MapOperator {
    public func apply(_ inputs: [Input], context: TaskContext) throws -> [Output] {
        try inputs.map { input in
            try context.checkCancellation()
            return try map(input, context: context)
        }
    }
}

/// An operator that turns each record into zero or more records (`Dataset.flatMap`).
public protocol FlatMapOperator: PartitionOperator {
    associatedtype Input
    associatedtype Output
    func flatMap(_ input: Input, context: TaskContext) throws -> [Output]
}

extension FlatMapOperator {
    public func apply(_ inputs: [Input], context: TaskContext) throws -> [Output] {
        var outputs: [Output] = []
        for input in inputs {
            try context.checkCancellation()
            outputs += try flatMap(input, context: context)
        }
        return outputs
    }
}

/// An operator that keeps the records for which `includes` is true (`Dataset.filter`).
public protocol FilterOperator: PartitionOperator where Output == Input {
    associatedtype Input
    func includes(_ input: Input, context: TaskContext) throws -> Bool
}

extension FilterOperator {
    public func apply(_ inputs: [Input], context: TaskContext) throws -> [Output] {
        try inputs.filter { input in
            try context.checkCancellation()
            return try includes(input, context: context)
        }
    }
}
