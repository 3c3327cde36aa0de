import Foundation

/// Which reduce partition a key goes to. Travels to executors inside the shuffle-write step,
/// so it is data (Codable), not code.
public struct Partitioner: Codable, Sendable, Hashable, CustomStringConvertible {
    /// The number of reduce partitions.
    public let partitions: Int
    let rule: Rule

    enum Rule: Codable, Sendable, Hashable {
        case hash
        /// Partition i holds keys <= bounds[i] (and > bounds[i-1]); the last, keys above every bound.
        case numberRange([Double])
        case stringRange([String])
        /// A registered `KeyPartitioner` and its JSON parameters.
        case custom(name: String, parameters: Data)
    }

    /// Spreads keys by a hash of their JSON encoding (FNV-1a), the same in every process.
    public static func hash(partitions: Int) throws -> Partitioner {
        guard partitions >= 1 else { throw PartitionerError.badPartitionCount(partitions) }
        return Partitioner(partitions: partitions, rule: .hash)
    }

    /// Ordered ranges: partition i holds the keys in (bounds[i-1], bounds[i]], so there are
    /// `bounds.count + 1` partitions and partition order is key order. Keys must be numbers
    /// (compared as Double) or strings (compared as Swift compares them).
    public static func range<Key: Comparable & Codable>(bounds: [Key]) throws -> Partitioner {
        guard zip(bounds, bounds.dropFirst()).allSatisfy({ $0 < $1 }) else { throw PartitionerError.unsortedBounds }
        let scalars = try bounds.map { try JSONScalar(JSONEncoder().encode($0)) }
        let numbers = scalars.compactMap(\.number), strings = scalars.compactMap(\.string)
        if numbers.count == bounds.count {
            return Partitioner(partitions: bounds.count + 1, rule: .numberRange(numbers))
        }
        if strings.count == bounds.count {
            return Partitioner(partitions: bounds.count + 1, rule: .stringRange(strings))
        }
        throw PartitionerError.unsupportedRangeKey("\(Key.self)")
    }

    /// A partitioner of your own (`KeyPartitioner`), registered by name in every process:
    /// `registry.register(partitioner: P.self)`.
    public static func custom<P: KeyPartitioner>(_ type: P.Type, _ parameters: P.Parameters,
                                                 partitions: Int) throws -> Partitioner {
        guard partitions >= 1 else { throw PartitionerError.badPartitionCount(partitions) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return Partitioner(partitions: partitions, rule: .custom(name: P.name, parameters: try encoder.encode(parameters)))
    }

    /// The key-to-partition function for one task; a custom rule is looked up in `registry`.
    func locator(in registry: OperatorRegistry?) throws -> (Data) throws -> Int {
        guard case let .custom(name, parameters) = rule else { return { try self.partition(ofKey: $0) } }
        guard let factory = registry?.partitioner(named: name) else { throw PartitionerError.unknownPartitioner(name) }
        let locate = try factory(parameters, partitions)
        let count = partitions
        return { key in
            let partition = try locate(key)
            guard (0..<count).contains(partition) else {
                throw PartitionerError.outOfRange(name: name, key: key, partition: partition, partitions: count)
            }
            return partition
        }
    }

    /// The reduce partition of a key, given the key's JSON encoding (built-in rules).
    func partition(ofKey key: Data) throws -> Int {
        switch rule {
        case .custom(let name, _):
            throw PartitionerError.unknownPartitioner(name)
        case .hash:
            return Int(fnv1a(key) % UInt64(partitions))
        case .numberRange(let bounds):
            guard let number = try JSONScalar(key).number else { throw PartitionerError.keyNotInRange(key, "a number") }
            return bounds.firstIndex { number <= $0 } ?? bounds.count
        case .stringRange(let bounds):
            guard let string = try JSONScalar(key).string else { throw PartitionerError.keyNotInRange(key, "a string") }
            return bounds.firstIndex { string <= $0 } ?? bounds.count
        }
    }

    public var description: String {
        switch rule {
        case .hash: return "hash(\(partitions))"
        case .numberRange, .stringRange: return "range(\(partitions))"
        case .custom(let name, _): return "\(name)(\(partitions))"
        }
    }
}

/// FNV-1a, 64 bits: stable across processes and platforms, unlike `Hasher`.
func fnv1a(_ bytes: Data) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01b3
    }
    return hash
}

/// A JSON number or string, read from its encoding.
private struct JSONScalar {
    var number: Double?
    var string: String?

    init(_ json: Data) throws {
        let value = try JSONSerialization.jsonObject(with: json, options: [.fragmentsAllowed])
        if let string = value as? String {
            self.string = string
        } else if let number = value as? NSNumber {
            self.number = number.doubleValue
        }
    }
}

public enum PartitionerError: Error, CustomStringConvertible, Equatable {
    case badPartitionCount(Int)
    case unsortedBounds
    case unsupportedRangeKey(String)
    case keyNotInRange(Data, String)
    case unknownPartitioner(String)
    case outOfRange(name: String, key: Data, partition: Int, partitions: Int)

    public var description: String {
        switch self {
        case .badPartitionCount(let n): return "a partitioner needs at least 1 partition, got \(n)"
        case .unsortedBounds: return "range bounds must be strictly increasing"
        case .unsupportedRangeKey(let type): return "range partitioning needs number or string keys, not \(type)"
        case let .keyNotInRange(key, expected):
            return "range partitioner: key \(String(decoding: key, as: UTF8.self)) is not \(expected)"
        case .unknownPartitioner(let name):
            return "unknown partitioner '\(name)': register it in every process (registry.register(partitioner:))"
        case let .outOfRange(name, key, partition, partitions):
            return "partitioner '\(name)' put key \(String(decoding: key, as: UTF8.self)) in partition \(partition), "
                + "outside 0..<\(partitions)"
        }
    }
}

/// A partitioner of your own: which of `partitions` reduce partitions a key goes to. Like an
/// operator, it is registered by name in the driver and every executor, and travels as its
/// name and Codable parameters.
public protocol KeyPartitioner: SendableMetatype {
    associatedtype Key: Codable
    associatedtype Parameters: Codable = NoParameters
    static var name: String { get }
    init(parameters: Parameters, partitions: Int) throws
    /// A partition in 0..<partitions; the same for equal keys in every process.
    func partition(of key: Key) throws -> Int
}

extension OperatorRegistry {
    public func register<P: KeyPartitioner>(partitioner type: P.Type) {
        addPartitioner(named: P.name) { parameterData, partitions in
            let parameters = try OperatorRegistry.decodeParameters(P.Parameters.self, from: parameterData, operator: P.name)
            let partitioner = try P(parameters: parameters, partitions: partitions)
            let decoder = JSONDecoder()
            return { key in try partitioner.partition(of: decoder.decode(P.Key.self, from: key)) }
        }
    }
}
