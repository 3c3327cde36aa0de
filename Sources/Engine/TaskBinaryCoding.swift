import Foundation

/// Task specs and results in a fixed binary layout instead of JSON: they carry every task, both
/// over the cluster's wire (Cluster's `launchTasks` and `taskResults`, protocol 3) and over the pipes
/// to worker processes, where JSON coding was 40 % of an executor's CPU per task.
///
///     spec     attempt, u32 n + n strings (inputs), u32 n + n (string name, bytes parameters),
///              u32 n + n (string key, string value) (settings), u8 speculative (0 or 1),
///              i64 maxAddedPartitions (0: none)
///     result   attempt, string executor, u8 outcome: 0 success (u32 n + n bytes records),
///              1 failure (string message), f64 duration (IEEE 754 bits, big-endian),
///              u32 n + n (u32 m + m strings) added partitions
///     attempt  string job id, i64 partition, i64 attempt
///     string   u32 byte count + UTF-8; bytes: u32 byte count + bytes. Integers big-endian.
///
/// Reading checks every count against the bytes left, so a hostile body fails with
/// `TaskCodingError` before anything large is allocated.
public enum TaskBinaryCoding {
    public static func write<Out: TaskBytesOut>(_ spec: TaskSpec, to out: inout Out) {
        write(spec.id, to: &out)
        out.writeTaskU32(UInt32(spec.inputs.count))
        for input in spec.inputs { out.writeTaskString(input) }
        out.writeTaskU32(UInt32(spec.steps.count))
        for step in spec.steps {
            out.writeTaskString(step.name)
            out.writeTaskBytes(step.parameters)
        }
        out.writeTaskU32(UInt32(spec.settings.count))
        for (key, value) in spec.settings.sorted(by: { $0.key < $1.key }) {
            out.writeTaskString(key)
            out.writeTaskString(value)
        }
        out.writeTaskU8(spec.speculative ? 1 : 0)
        out.writeTaskU64(UInt64(bitPattern: Int64(spec.maxAddedPartitions ?? 0)))
    }

    public static func write<Out: TaskBytesOut>(_ result: TaskResult, to out: inout Out) {
        write(result.id, to: &out)
        out.writeTaskString(result.executor)
        switch result.outcome {
        case .success(let records):
            out.writeTaskU8(0)
            out.writeTaskU32(UInt32(records.count))
            for record in records { out.writeTaskBytes(record) }
        case .failure(let message):
            out.writeTaskU8(1)
            out.writeTaskString(message)
        }
        out.writeTaskU64(result.duration.bitPattern)
        let added = result.addedPartitions ?? []
        out.writeTaskU32(UInt32(added.count))
        for partition in added {
            out.writeTaskU32(UInt32(partition.count))
            for input in partition { out.writeTaskString(input) }
        }
    }

    /// The smallest encoded spec and result (empty strings and lists): what a count is checked against.
    public static let minimumItemBytes = 41

    public static func readSpec<In: TaskBytesIn>(_ input: inout In) throws -> TaskSpec {
        let id = try readAttempt(&input)
        let inputs = try readList(&input, minimumItemBytes: 4) { try readString(&$0) }
        let steps = try readList(&input, minimumItemBytes: 8) {
            OperatorStep(name: try readString(&$0), parameters: try readBytes(&$0))
        }
        let pairs = try readList(&input, minimumItemBytes: 8) { (try readString(&$0), try readString(&$0)) }
        let settings = try Dictionary(pairs, uniquingKeysWith: { _, _ in throw TaskCodingError("a setting twice") })
        let speculative: Bool
        switch try read(&input, UInt8.self) {
        case 0: speculative = false
        case 1: speculative = true
        case let other: throw TaskCodingError("speculative flag \(other)")
        }
        var spec = TaskSpec(id: id, inputs: inputs, steps: steps, settings: settings, speculative: speculative)
        let mayAdd = Int64(bitPattern: try read(&input, UInt64.self))
        guard mayAdd >= 0 else { throw TaskCodingError("maxAddedPartitions \(mayAdd)") }
        spec.maxAddedPartitions = mayAdd > 0 ? Int(mayAdd) : nil
        return spec
    }

    public static func readResult<In: TaskBytesIn>(_ input: inout In) throws -> TaskResult {
        let id = try readAttempt(&input)
        let executor = try readString(&input)
        let outcome: TaskOutcome
        switch try read(&input, UInt8.self) {
        case 0: outcome = .success(records: try readList(&input, minimumItemBytes: 4) { try readBytes(&$0) })
        case 1: outcome = .failure(message: try readString(&input))
        case let other: throw TaskCodingError("outcome \(other)")
        }
        let duration = Double(bitPattern: try read(&input, UInt64.self))
        var result = TaskResult(id: id, executor: executor, outcome: outcome, duration: duration)
        let added = try readList(&input, minimumItemBytes: 4) { input in
            try readList(&input, minimumItemBytes: 4) { try readString(&$0) }
        }
        result.addedPartitions = added.isEmpty ? nil : added
        return result
    }

    /// A count, then that many items; a count that the bytes left cannot hold is refused at once.
    public static func readList<In: TaskBytesIn, T>(_ input: inout In, minimumItemBytes: Int,
                                                    _ item: (inout In) throws -> T) throws -> [T] {
        let count = Int(try read(&input, UInt32.self))
        guard count <= input.readableBytes / minimumItemBytes else {
            throw TaskCodingError("\(count) items announced, \(input.readableBytes) bytes left")
        }
        var items: [T] = []
        items.reserveCapacity(count)
        for _ in 0..<count { items.append(try item(&input)) }
        return items
    }

    public static func readString<In: TaskBytesIn>(_ input: inout In) throws -> String {
        let count = Int(try read(&input, UInt32.self))
        guard count <= input.readableBytes, let string = input.readTaskString(count: count) else {
            throw TaskCodingError("a string of \(count) bytes, \(input.readableBytes) left")
        }
        return string
    }

    public static func read<In: TaskBytesIn, T: FixedWidthInteger>(_ input: inout In, _: T.Type) throws -> T {
        guard let value: T = input.readTaskInteger() else { throw TaskCodingError("the batch ends early") }
        return value
    }

    // MARK: Pieces

    private static func write<Out: TaskBytesOut>(_ id: TaskAttemptID, to out: inout Out) {
        out.writeTaskString(id.jobID)
        out.writeTaskU64(UInt64(bitPattern: Int64(id.partition)))
        out.writeTaskU64(UInt64(bitPattern: Int64(id.attempt)))
    }

    private static func readAttempt<In: TaskBytesIn>(_ input: inout In) throws -> TaskAttemptID {
        let job = try readString(&input)
        let partition = Int64(bitPattern: try read(&input, UInt64.self))
        let attempt = Int64(bitPattern: try read(&input, UInt64.self))
        return TaskAttemptID(jobID: job, partition: Int(partition), attempt: Int(attempt))
    }

    private static func readBytes<In: TaskBytesIn>(_ input: inout In) throws -> Data {
        let count = Int(try read(&input, UInt32.self))
        guard count <= input.readableBytes, let bytes = input.readTaskData(count: count) else {
            throw TaskCodingError("\(count) bytes announced, \(input.readableBytes) left")
        }
        return bytes
    }
}

/// Why a binary task body was refused.
public struct TaskCodingError: Error, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// Where `TaskBinaryCoding` writes: a byte array here (`TaskBytes`), a NIO buffer on the wire.
public protocol TaskBytesOut {
    mutating func writeTaskU8(_ value: UInt8)
    mutating func writeTaskU32(_ value: UInt32)
    mutating func writeTaskU64(_ value: UInt64)
    /// A u32 byte count, then the UTF-8.
    mutating func writeTaskString(_ string: String)
    /// A u32 byte count, then the bytes.
    mutating func writeTaskBytes(_ data: Data)
}

/// What `TaskBinaryCoding` reads from; every read advances past what it returns, nil when too short.
public protocol TaskBytesIn {
    var readableBytes: Int { get }
    mutating func readTaskInteger<T: FixedWidthInteger>() -> T?
    mutating func readTaskString(count: Int) -> String?
    mutating func readTaskData(count: Int) -> Data?
}

/// A growing byte array to write into, and a cursor over bytes to read from (the worker pipes' frames).
public struct TaskBytes: TaskBytesOut, TaskBytesIn {
    public private(set) var bytes: [UInt8]
    private var offset = 0

    public init(reservingCapacity capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public init(reading bytes: [UInt8], from offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    public mutating func writeTaskU8(_ value: UInt8) { bytes.append(value) }
    public mutating func writeTaskU32(_ value: UInt32) { append(value) }
    public mutating func writeTaskU64(_ value: UInt64) { append(value) }

    public mutating func writeTaskString(_ string: String) {
        var string = string
        string.withUTF8 { utf8 in
            append(UInt32(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    public mutating func writeTaskBytes(_ data: Data) {
        append(UInt32(data.count))
        bytes.append(contentsOf: data)
    }

    /// Bytes as they are, without a count (a JSON body after a tag).
    public mutating func appendRaw<Bytes: Sequence>(_ data: Bytes) where Bytes.Element == UInt8 {
        bytes.append(contentsOf: data)
    }

    /// Seven bits a byte, low first, the high bit set on all but the last (the shuffle's integers).
    public mutating func writeVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7f) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    /// A `writeVarint` value; nil when the bytes end first or it runs past 64 bits.
    public mutating func readVarint() -> UInt64? {
        var value: UInt64 = 0, shift: UInt64 = 0, index = offset
        while index < bytes.count, shift < 64 {
            let byte = bytes[index]
            value |= UInt64(byte & 0x7f) << shift
            index += 1
            if byte < 0x80 {
                offset = index
                return value
            }
            shift += 7
        }
        return nil
    }

    private mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    public var readableBytes: Int { bytes.count - offset }

    public mutating func readTaskInteger<T: FixedWidthInteger>() -> T? {
        let size = MemoryLayout<T>.size
        guard readableBytes >= size else { return nil }
        var value: T = 0
        for byte in bytes[offset..<offset + size] { value = value << 8 | T(byte) }
        offset += size
        return value
    }

    public mutating func readTaskString(count: Int) -> String? {
        guard count >= 0, readableBytes >= count else { return nil }
        defer { offset += count }
        return String(decoding: bytes[offset..<offset + count], as: UTF8.self)
    }

    public mutating func readTaskData(count: Int) -> Data? {
        guard count >= 0, readableBytes >= count else { return nil }
        defer { offset += count }
        return Data(bytes[offset..<offset + count])
    }
}
