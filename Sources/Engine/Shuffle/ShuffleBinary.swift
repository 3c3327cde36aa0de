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

/// Little-endian fixed-width floats, zigzag varints for integers, varint-length UTF-8 strings.
public struct ShuffleBinaryWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func write(_ value: Double) {
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func write(_ value: Int64) {
        var zigzag = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while zigzag >= 0x80 {
            bytes.append(UInt8(zigzag & 0x7f) | 0x80)
            zigzag >>= 7
        }
        bytes.append(UInt8(zigzag))
    }

    public mutating func write(_ value: Int) { write(Int64(value)) }

    public mutating func write(_ value: String) {
        let utf8 = Array(value.utf8)
        write(utf8.count)
        bytes.append(contentsOf: utf8)
    }

    public mutating func write(_ value: Bool) { bytes.append(value ? 1 : 0) }
}

public struct ShuffleBinaryReader {
    private let bytes: [UInt8]
    private var offset = 0

    public init(_ data: Data) { bytes = [UInt8](data) }

    public var isAtEnd: Bool { offset == bytes.count }

    private mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, offset + count <= bytes.count else { throw ShuffleBinaryError.truncated }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    public mutating func readDouble() throws -> Double {
        let raw = try take(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return Double(bitPattern: raw)
    }

    public mutating func readInt64() throws -> Int64 {
        var zigzag: UInt64 = 0, shift: UInt64 = 0
        while true {
            guard shift < 64 else { throw ShuffleBinaryError.badVarint }
            let byte = try take(1).first!
            zigzag |= UInt64(byte & 0x7f) << shift
            if byte < 0x80 { break }
            shift += 7
        }
        return Int64(bitPattern: zigzag >> 1) ^ -Int64(bitPattern: zigzag & 1)
    }

    public mutating func readInt() throws -> Int {
        let value = try readInt64()
        guard let int = Int(exactly: value) else { throw ShuffleBinaryError.badVarint }
        return int
    }

    public mutating func readString() throws -> String {
        String(decoding: try take(try readInt()), as: UTF8.self)
    }

    public mutating func readBool() throws -> Bool { try take(1).first! != 0 }
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
