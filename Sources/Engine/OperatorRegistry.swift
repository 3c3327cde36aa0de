import Foundation

/// Maps operator names to the code that runs them. Driver and executors build the same
/// registry at start-up; a task names an operator and the executor looks it up here.
///
/// Records between the steps of one task stay in memory as Swift values; only the
/// last step's output is JSON-encoded.
/// @unchecked: `lock` guards `runners` and `partitioners`.
public final class OperatorRegistry: @unchecked Sendable {
    private var runners: [String: AnyOperatorRunner] = [:]
    /// User-defined partitioners by name (`register(partitioner:)`): parameters and partition
    /// count in, key-to-partition function out.
    private var partitioners: [String: @Sendable (Data, Int) throws -> (Data) throws -> Int] = [:]
    private let lock = NSLock()

    public init() {}

    /// Registers `Op` under `Op.name`. Registering the same name twice replaces the first.
    public func register<Op: PartitionOperator>(_ type: Op.Type) {
        let built = LastBuilt<Op>()
        add(AnyOperatorRunner(name: Op.name, inputType: Op.Input.self, outputType: Op.Output.self) {
            records, parameterData, context in
            let op = try built.value(for: parameterData) {
                try Op(parameters: OperatorRegistry.decodeParameters(Op.Parameters.self, from: parameterData,
                                                                     operator: Op.name))
            }
            let inputs = try OperatorRegistry.cast(records, to: Op.Input.self, operator: Op.name)
            return try op.apply(inputs, context: context)
        })
    }

    /// Registers a closure over a whole partition under `name`: handy for tests and for
    /// operators without parameters. The closure is looked up by name, so every process
    /// that runs tasks must register it too.
    public func register<Input: Codable, Output: Codable>(
        _ name: String, input: Input.Type = Input.self, output: Output.Type = Output.self,
        _ body: @escaping @Sendable ([Input], TaskContext) throws -> [Output]
    ) {
        add(AnyOperatorRunner(name: name, inputType: Input.self, outputType: Output.self) { records, _, context in
            try body(try OperatorRegistry.cast(records, to: Input.self, operator: name), context)
        })
    }

    /// The registered names, sorted.
    public var names: [String] {
        lock.lock(); defer { lock.unlock() }
        return runners.keys.sorted()
    }

    public func contains(_ name: String) -> Bool {
        lock.lock(); defer { lock.unlock() }
        return runners[name] != nil
    }

    func runner(named name: String) throws -> AnyOperatorRunner {
        lock.lock(); defer { lock.unlock() }
        guard let runner = runners[name] else {
            let known = runners.keys.sorted().joined(separator: ", ")
            throw OperatorError.unknownOperator(name: name, known: known)
        }
        return runner
    }

    func addPartitioner(named name: String, _ factory: @escaping @Sendable (Data, Int) throws -> (Data) throws -> Int) {
        lock.lock(); defer { lock.unlock() }
        partitioners[name] = factory
    }

    func partitioner(named name: String) -> (@Sendable (Data, Int) throws -> (Data) throws -> Int)? {
        lock.lock(); defer { lock.unlock() }
        return partitioners[name]
    }

    func add(_ runner: AnyOperatorRunner) {
        lock.lock(); defer { lock.unlock() }
        runners[runner.name] = runner
    }

    static func decodeParameters<P: Decodable>(_ type: P.Type, from data: Data, operator name: String) throws -> P {
        if P.self == NoParameters.self, data.isEmpty { return NoParameters() as! P }
        do {
            return try JSONDecoder().decode(P.self, from: data)
        } catch {
            throw OperatorError.badParameters(operator: name, reason: "\(error)")
        }
    }

    /// Records arrive as the previous step's values, or as source strings for the first step.
    /// A first step whose input is not `String` reads each source string as JSON.
    static func cast<T: Decodable>(_ records: [Any], to type: T.Type, operator name: String) throws -> [T] {
        if let typed = records as? [T] { return typed }
        if let shuffled = records as? [ShuffledRecord] {
            let decoder = JSONDecoder()
            let binaryType = T.self as? ShuffleBinaryRecord.Type
            return try shuffled.map { record in
                do {
                    if record.binary {
                        guard let binaryType else { throw ShuffleBinaryNotJSON() }
                        return try binaryType.fromShuffle(key: record.key, binaryValue: record.value,
                                                          decoder: decoder) as! T
                    }
                    return try decoder.decode(T.self, from: record.jsonForm)
                } catch {
                    let found = record.binary ? "a binary shuffled record (\(error))"
                        : "the shuffled record \(String(decoding: record.jsonForm, as: UTF8.self))"
                    throw OperatorError.inputTypeMismatch(operator: name, expected: "\(T.self)", found: found)
                }
            }
        }
        if let strings = records as? [String] {
            let decoder = JSONDecoder()
            return try strings.map { string in
                do {
                    return try decoder.decode(T.self, from: Data(string.utf8))
                } catch {
                    throw OperatorError.inputTypeMismatch(operator: name, expected: "\(T.self)",
                                                          found: "the string \(string.debugDescription)")
                }
            }
        }
        let found = records.first.map { "\(Swift.type(of: $0))" } ?? "nothing"
        throw OperatorError.inputTypeMismatch(operator: name, expected: "\(T.self)", found: found)
    }
}

/// The operator last built from its parameters' bytes: a job's tasks all carry the same bytes.
/// Decoding them again for every task was 7 % of an executor's CPU per no-op task, and building
/// the extract operator (its recipe's digest, its extractor) another 4 % of a small image's task.
/// @unchecked: `lock` guards `last`.
final class LastBuilt<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var last: (data: Data, value: Value)?

    func value(for data: Data, build: () throws -> Value) throws -> Value {
        if let hit = lock.withLock({ last.flatMap { $0.data == data ? $0.value : nil } }) { return hit }
        let value = try build()
        lock.withLock { last = (data, value) }
        return value
    }
}

/// A registered operator with its types erased, so that steps of different types can chain.
/// @unchecked: immutable; its closures are not marked `@Sendable` but capture only names,
/// types and `@Sendable` bodies.
struct AnyOperatorRunner: @unchecked Sendable {
    let name: String
    let inputType: Any.Type
    let outputType: Any.Type
    let encode: ([Any]) throws -> [Data]
    private let body: ([Any], Data, TaskContext) throws -> [Any]

    init<Input, Output: Encodable>(name: String, inputType: Input.Type, outputType: Output.Type,
                                   body: @escaping ([Any], Data, TaskContext) throws -> [Output]) {
        self.name = name
        self.inputType = inputType
        self.outputType = outputType
        self.body = { records, parameters, context in try body(records, parameters, context) }
        self.encode = { records in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return try records.map { record in
                guard let value = record as? Output else {
                    throw OperatorError.inputTypeMismatch(operator: name, expected: "\(Output.self)",
                                                          found: "\(type(of: record))")
                }
                return try encoder.encode(value)
            }
        }
    }

    /// A runner that encodes its records itself (the shuffle steps, whose records are untyped).
    init(name: String, inputType: Any.Type, outputType: Any.Type, encode: @escaping ([Any]) throws -> [Data],
         body: @escaping ([Any], Data, TaskContext) throws -> [Any]) {
        self.name = name
        self.inputType = inputType
        self.outputType = outputType
        self.body = body
        self.encode = encode
    }

    func apply(_ records: [Any], parameters: Data, context: TaskContext) throws -> [Any] {
        try body(records, parameters, context)
    }
}

public enum OperatorError: Error, CustomStringConvertible, Equatable {
    case unknownOperator(name: String, known: String)
    case badParameters(operator: String, reason: String)
    case inputTypeMismatch(operator: String, expected: String, found: String)

    public var description: String {
        switch self {
        case let .unknownOperator(name, known):
            return "unknown operator '\(name)' (this binary registers: \(known.isEmpty ? "none" : known))"
        case let .badParameters(name, reason):
            return "operator '\(name)': cannot decode its parameters: \(reason)"
        case let .inputTypeMismatch(name, expected, found):
            return "operator '\(name)' expects records of type \(expected) but got \(found)"
        }
    }
}
