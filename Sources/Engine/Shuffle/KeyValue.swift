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

/// A map stage's record when the stage also has something to tell the driver: `keyed` records
/// go through the shuffle; each `report` comes back, in order, with the task's map status, and
/// the job's listener sees the reports as the map task's records (`TaskEndEvent.records`).
/// For a first stage that commits outputs of its own, such as the extraction's catalogs
/// before a sky merge: its per-input outcomes reach the driver as the shuffle is written.
public enum MapSideRecord<Key: Codable & Hashable, Value: Codable, Report: Codable>: Codable {
    case keyed(KeyValue<Key, Value>)
    case report(Report)
}

extension MapSideRecord: Sendable where Key: Sendable, Value: Sendable, Report: Sendable {}

/// What the shuffle writer does with one record, without knowing its types.
enum ShuffleEntry {
    /// `binary`: the value is `ShuffleBinaryValue` bytes, else JSON.
    case keyed(key: Data, value: Data, binary: Bool)
    /// JSON handed back to the driver beside the map status.
    case report(Data)
}

/// A record the shuffle writer can split into key and value bytes without knowing its types.
/// `binary`: the value may travel as `ShuffleBinaryValue` bytes (the reading stage decodes it).
protocol ShuffleWritable {
    func shuffleEntry(_ encoder: JSONEncoder, binary: Bool) throws -> ShuffleEntry
}

extension KeyValue: ShuffleWritable {
    func shuffleEntry(_ encoder: JSONEncoder, binary: Bool) throws -> ShuffleEntry {
        if binary, let value = value as? ShuffleBinaryValue {
            return .keyed(key: try encoder.encode(key), value: value.shuffleBinary, binary: true)
        }
        return .keyed(key: try encoder.encode(key), value: try encoder.encode(value), binary: false)
    }
}

extension MapSideRecord: ShuffleWritable {
    func shuffleEntry(_ encoder: JSONEncoder, binary: Bool) throws -> ShuffleEntry {
        switch self {
        case .keyed(let record): return try record.shuffleEntry(encoder, binary: binary)
        case .report(let report): return .report(try encoder.encode(report))
        }
    }
}

/// A record as the shuffle reader hands it on: the key's JSON and the value's JSON or binary
/// form, untyped. The next step decodes it as its own input type (`OperatorRegistry.cast`);
/// when the reader is a task's last step, its JSON is the task's output record as is.
struct ShuffledRecord: ShuffleWritable {
    var key: Data
    var value: Data
    var binary = false

    /// `{"key":K,"value":V}`: what `KeyValue` decodes from (JSON values only).
    func json() throws -> Data {
        guard !binary else { throw ShuffleBinaryNotJSON() }
        return jsonForm
    }

    var jsonForm: Data {
        var json = Data("{\"key\":".utf8)
        json.reserveCapacity(key.count + value.count + 18)
        json.append(key)
        json.append(contentsOf: Array(",\"value\":".utf8))
        json.append(value)
        json.append(UInt8(ascii: "}"))
        return json
    }

    func shuffleEntry(_ encoder: JSONEncoder, binary: Bool) throws -> ShuffleEntry {
        .keyed(key: key, value: value, binary: self.binary)
    }
}

/// A binary shuffle value reached a place that needs JSON (the DAG scheduler asks for binary
/// values only where a step decodes them, so this is a bug, said plainly).
struct ShuffleBinaryNotJSON: Error, CustomStringConvertible {
    var description: String { "a binary shuffle record cannot be a task's output record" }
}
