import Foundation

/// A value the shuffle can carry as compact bytes instead of JSON: a sky detection is ~30 bytes
/// so, ~100 as JSON. Keys stay JSON (the partitioner hashes and ranges them, reducers sort by
/// them). Conform a `KeyValue`'s value type, and its records travel in this form whenever the
/// stage that reads them decodes them in a step of its own (a read whose records are the task's
/// output gives JSON). Write and read the fields in one order; the format is this process's
/// build's (driver and executors run the same binary).
public protocol ShuffleBinaryValue {
    func write(to writer: inout ShuffleBinaryWriter)
    init(from reader: inout ShuffleBinaryReader) throws
}

/// Fixed-width floats (their bits, as `TaskBytes` writes integers), zigzag varints for integers,
/// varint-length UTF-8 strings: the shuffle's integers are mostly small (rows, counts), so they
/// take a byte or two. One byte buffer (`TaskBytes`) serves this and the task wire format.
public struct ShuffleBinaryWriter {
    private var buffer = TaskBytes()

    public init() {}

    public var bytes: [UInt8] { buffer.bytes }

    public mutating func write(_ value: Double) { buffer.writeTaskU64(value.bitPattern) }

    public mutating func write(_ value: Int64) { buffer.writeVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63))) }

    public mutating func write(_ value: Int) { write(Int64(value)) }

    public mutating func write(_ value: String) {
        write(value.utf8.count)
        buffer.appendRaw(value.utf8)
    }

    public mutating func write(_ value: Bool) { buffer.writeTaskU8(value ? 1 : 0) }
}

public struct ShuffleBinaryReader {
    private var buffer: TaskBytes

    public init(_ data: Data) { buffer = TaskBytes(reading: [UInt8](data)) }

    public var isAtEnd: Bool { buffer.readableBytes == 0 }

    public mutating func readDouble() throws -> Double {
        guard let bits: UInt64 = buffer.readTaskInteger() else { throw ShuffleBinaryError.truncated }
        return Double(bitPattern: bits)
    }

    public mutating func readInt64() throws -> Int64 {
        guard let zigzag = buffer.readVarint() else {
            // Ten bytes hold any 64-bit varint: with as many left and no end, it is malformed.
            throw buffer.readableBytes >= 10 ? ShuffleBinaryError.badVarint : ShuffleBinaryError.truncated
        }
        return Int64(bitPattern: zigzag >> 1) ^ -Int64(bitPattern: zigzag & 1)
    }

    public mutating func readInt() throws -> Int {
        let value = try readInt64()
        guard let int = Int(exactly: value) else { throw ShuffleBinaryError.badVarint }
        return int
    }

    public mutating func readString() throws -> String {
        guard let string = buffer.readTaskString(count: try readInt()) else { throw ShuffleBinaryError.truncated }
        return string
    }

    public mutating func readBool() throws -> Bool {
        guard let byte: UInt8 = buffer.readTaskInteger() else { throw ShuffleBinaryError.truncated }
        return byte != 0
    }
}

public enum ShuffleBinaryError: Error, CustomStringConvertible {
    case truncated, badVarint, trailingBytes

    public var description: String {
        switch self {
        case .truncated: return "a binary shuffle value is truncated"
        case .badVarint: return "a binary shuffle value has a malformed integer"
        case .trailingBytes: return "a binary shuffle value has bytes after its end"
        }
    }
}

extension Double: ShuffleBinaryValue {
    public func write(to writer: inout ShuffleBinaryWriter) { writer.write(self) }
    public init(from reader: inout ShuffleBinaryReader) throws { self = try reader.readDouble() }
}

extension Int: ShuffleBinaryValue {
    public func write(to writer: inout ShuffleBinaryWriter) { writer.write(self) }
    public init(from reader: inout ShuffleBinaryReader) throws { self = try reader.readInt() }
}

extension Int64: ShuffleBinaryValue {
    public func write(to writer: inout ShuffleBinaryWriter) { writer.write(self) }
    public init(from reader: inout ShuffleBinaryReader) throws { self = try reader.readInt64() }
}

extension String: ShuffleBinaryValue {
    public func write(to writer: inout ShuffleBinaryWriter) { writer.write(self) }
    public init(from reader: inout ShuffleBinaryReader) throws { self = try reader.readString() }
}

extension Bool: ShuffleBinaryValue {
    public func write(to writer: inout ShuffleBinaryWriter) { writer.write(self) }
    public init(from reader: inout ShuffleBinaryReader) throws { self = try reader.readBool() }
}

/// A group's values (`groupByKey`'s reduce side): the count, then each value.
extension Array: ShuffleBinaryValue where Element: ShuffleBinaryValue {
    public func write(to writer: inout ShuffleBinaryWriter) {
        writer.write(count)
        for element in self { element.write(to: &writer) }
    }

    public init(from reader: inout ShuffleBinaryReader) throws {
        let count = try reader.readInt()
        guard count >= 0 else { throw ShuffleBinaryError.badVarint }
        self = []
        for _ in 0..<count { append(try Element(from: &reader)) }
    }
}

extension ShuffleBinaryValue {
    /// The value alone, as the shuffle stores it.
    public var shuffleBinary: Data {
        var writer = ShuffleBinaryWriter()
        write(to: &writer)
        return Data(writer.bytes)
    }

    /// A value from exactly `data`.
    public init(shuffleBinary data: Data) throws {
        var reader = ShuffleBinaryReader(data)
        try self.init(from: &reader)
        guard reader.isAtEnd else { throw ShuffleBinaryError.trailingBytes }
    }
}

/// A record type the next step can decode from a binary shuffle record (a `KeyValue` whose
/// value is `ShuffleBinaryValue`): found by a dynamic cast, since the reader does not know types.
protocol ShuffleBinaryRecord {
    static func fromShuffle(key: Data, binaryValue: Data, decoder: JSONDecoder) throws -> Self
}

extension KeyValue: ShuffleBinaryRecord where Value: ShuffleBinaryValue {
    static func fromShuffle(key: Data, binaryValue: Data, decoder: JSONDecoder) throws -> KeyValue {
        KeyValue(try decoder.decode(Key.self, from: key), try Value(shuffleBinary: binaryValue))
    }
}
