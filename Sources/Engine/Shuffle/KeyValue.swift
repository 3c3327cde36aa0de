import Foundation

/// A keyed record: what wide transformations (`partitionBy`, `groupByKey`, `reduceByKey`)
/// shuffle. Encodes as `{"key": …, "value": …}`.
///
/// Keys are compared and hashed by their JSON encoding (sorted keys), never by Swift's
/// `Hashable`, whose seed differs from process to process: equal keys must land in the same
/// reduce partition on every executor.
public struct KeyValue<Key: Codable & Hashable, Value: Codable>: Codable {
    public var key: Key
    public var value: Value

    public init(_ key: Key, _ value: Value) {
        self.key = key
        self.value = value
    }
}

extension KeyValue: Equatable where Value: Equatable {}
extension KeyValue: Hashable where Value: Hashable {}
extension KeyValue: Sendable where Key: Sendable, Value: Sendable {}

extension KeyValue: CustomStringConvertible {
    public var description: String { "(\(key), \(value))" }
}

/// A record the shuffle writer can split into key and value bytes without knowing its types.
protocol ShuffleWritable {
    func shuffleBytes(_ encoder: JSONEncoder) throws -> (key: Data, value: Data)
}

extension KeyValue: ShuffleWritable {
    func shuffleBytes(_ encoder: JSONEncoder) throws -> (key: Data, value: Data) {
        (try encoder.encode(key), try encoder.encode(value))
    }
}

/// A record as the shuffle reader hands it on: the key's and the value's JSON, untyped.
/// The next step decodes it as its own input type (`OperatorRegistry.cast`); when the reader
/// is a task's last step, its JSON is the task's output record as is.
struct ShuffledRecord: ShuffleWritable {
    var key: Data
    var value: Data

    /// `{"key":K,"value":V}`: what `KeyValue` decodes from.
    var json: Data {
        var json = Data("{\"key\":".utf8)
        json.reserveCapacity(key.count + value.count + 18)
        json.append(key)
        json.append(contentsOf: Array(",\"value\":".utf8))
        json.append(value)
        json.append(UInt8(ascii: "}"))
        return json
    }

    func shuffleBytes(_ encoder: JSONEncoder) throws -> (key: Data, value: Data) { (key, value) }
}
