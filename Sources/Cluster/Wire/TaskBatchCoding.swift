import Engine
import Foundation
import NIOCore

/// The bodies of `launchTasks` and `taskResults` (protocol 3), in a fixed binary layout instead of
/// JSON: they carry every task, and JSON decoding was a sixth of the master's CPU per task.
///
///     batch    u32 count, then count items
///     spec     attempt, u32 n + n strings (inputs), u32 n + n (string name, bytes parameters),
///              u32 n + n (string key, string value) (settings), u8 speculative (0 or 1),
///              i64 maxAddedPartitions (0: none)
///     result   attempt, string executor, u8 outcome: 0 success (u32 n + n bytes records),
///              1 failure (string message), f64 duration (IEEE 754 bits, big-endian),
///              u32 n + n (u32 m + m strings) added partitions
///     attempt  string job id, i64 partition, i64 attempt
///     string   u32 byte count + UTF-8; bytes: u32 byte count + bytes. Integers big-endian.
///
/// Reading checks every count against the bytes left, so a hostile frame fails with
/// `WireError.malformed` before anything large is allocated.
enum TaskBatchCoding {
    static func write(_ specs: [TaskSpec], to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(specs.count))
        for spec in specs {
            write(spec.id, to: &buffer)
            buffer.writeInteger(UInt32(spec.inputs.count))
            for input in spec.inputs { writeString(input, to: &buffer) }
            buffer.writeInteger(UInt32(spec.steps.count))
            for step in spec.steps {
                writeString(step.name, to: &buffer)
                writeBytes(step.parameters, to: &buffer)
            }
            buffer.writeInteger(UInt32(spec.settings.count))
            for (key, value) in spec.settings.sorted(by: { $0.key < $1.key }) {
                writeString(key, to: &buffer)
                writeString(value, to: &buffer)
            }
            buffer.writeInteger(UInt8(spec.speculative ? 1 : 0))
            buffer.writeInteger(Int64(spec.maxAddedPartitions ?? 0))
        }
    }

    static func write(_ results: [TaskResult], to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(results.count))
        for result in results {
            write(result.id, to: &buffer)
            writeString(result.executor, to: &buffer)
            switch result.outcome {
            case .success(let records):
                buffer.writeInteger(UInt8(0))
                buffer.writeInteger(UInt32(records.count))
                for record in records { writeBytes(record, to: &buffer) }
            case .failure(let message):
                buffer.writeInteger(UInt8(1))
                writeString(message, to: &buffer)
            }
            buffer.writeInteger(result.duration.bitPattern)
            let added = result.addedPartitions ?? []
            buffer.writeInteger(UInt32(added.count))
            for partition in added {
                buffer.writeInteger(UInt32(partition.count))
                for input in partition { writeString(input, to: &buffer) }
            }
        }
    }

    static func readSpecs(_ buffer: inout ByteBuffer) throws -> [TaskSpec] {
        try readList(&buffer, minimumItemBytes: 41) { buffer in
            let id = try readAttempt(&buffer)
            let inputs = try readList(&buffer, minimumItemBytes: 4) { try readString(&$0) }
            let steps = try readList(&buffer, minimumItemBytes: 8) {
                OperatorStep(name: try readString(&$0), parameters: try readBytes(&$0))
            }
            let pairs = try readList(&buffer, minimumItemBytes: 8) { (try readString(&$0), try readString(&$0)) }
            let settings = try Dictionary(pairs, uniquingKeysWith: { _, _ in throw WireError.malformed("a setting twice") })
            let speculative: Bool
            switch try readInteger(&buffer, as: UInt8.self) {
            case 0: speculative = false
            case 1: speculative = true
            case let other: throw WireError.malformed("speculative flag \(other)")
            }
            var spec = TaskSpec(id: id, inputs: inputs, steps: steps, settings: settings, speculative: speculative)
            let mayAdd = try readInteger(&buffer, as: Int64.self)
            guard mayAdd >= 0 else { throw WireError.malformed("maxAddedPartitions \(mayAdd)") }
            spec.maxAddedPartitions = mayAdd > 0 ? Int(mayAdd) : nil
            return spec
        }
    }

    static func readResults(_ buffer: inout ByteBuffer) throws -> [TaskResult] {
        try readList(&buffer, minimumItemBytes: 41) { buffer in
            let id = try readAttempt(&buffer)
            let executor = try readString(&buffer)
            let outcome: TaskOutcome
            switch try readInteger(&buffer, as: UInt8.self) {
            case 0: outcome = .success(records: try readList(&buffer, minimumItemBytes: 4) { try readBytes(&$0) })
            case 1: outcome = .failure(message: try readString(&buffer))
            case let other: throw WireError.malformed("outcome \(other)")
            }
            let duration = Double(bitPattern: try readInteger(&buffer, as: UInt64.self))
            var result = TaskResult(id: id, executor: executor, outcome: outcome, duration: duration)
            let added = try readList(&buffer, minimumItemBytes: 4) { buffer in
                try readList(&buffer, minimumItemBytes: 4) { try readString(&$0) }
            }
            result.addedPartitions = added.isEmpty ? nil : added
            return result
        }
    }

    /// The body must have been read to its end: trailing bytes mean a peer of another layout.
    static func finish(_ buffer: ByteBuffer) throws {
        guard buffer.readableBytes == 0 else { throw WireError.malformed("\(buffer.readableBytes) bytes after the batch") }
    }

    // MARK: Pieces

    private static func write(_ id: TaskAttemptID, to buffer: inout ByteBuffer) {
        writeString(id.jobID, to: &buffer)
        buffer.writeInteger(Int64(id.partition))
        buffer.writeInteger(Int64(id.attempt))
    }

    private static func writeString(_ string: String, to buffer: inout ByteBuffer) {
        let lengthAt = buffer.writerIndex
        buffer.writeInteger(UInt32(0))
        let written = buffer.writeString(string)
        buffer.setInteger(UInt32(written), at: lengthAt)
    }

    private static func writeBytes(_ data: Data, to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(data.count))
        buffer.writeBytes(data)
    }

    private static func readAttempt(_ buffer: inout ByteBuffer) throws -> TaskAttemptID {
        let job = try readString(&buffer)
        let partition = try readInteger(&buffer, as: Int64.self)
        let attempt = try readInteger(&buffer, as: Int64.self)
        return TaskAttemptID(jobID: job, partition: Int(partition), attempt: Int(attempt))
    }

    private static func readInteger<T: FixedWidthInteger>(_ buffer: inout ByteBuffer, as: T.Type) throws -> T {
        guard let value = buffer.readInteger(as: T.self) else { throw WireError.malformed("the batch ends early") }
        return value
    }

    private static func readString(_ buffer: inout ByteBuffer) throws -> String {
        let count = Int(try readInteger(&buffer, as: UInt32.self))
        guard count <= buffer.readableBytes, let string = buffer.readString(length: count) else {
            throw WireError.malformed("a string of \(count) bytes, \(buffer.readableBytes) left")
        }
        return string
    }

    private static func readBytes(_ buffer: inout ByteBuffer) throws -> Data {
        let count = Int(try readInteger(&buffer, as: UInt32.self))
        guard count <= buffer.readableBytes, let bytes = buffer.readBytes(length: count) else {
            throw WireError.malformed("\(count) bytes announced, \(buffer.readableBytes) left")
        }
        return Data(bytes)
    }

    /// A count, then that many items; a count that the bytes left cannot hold is refused at once.
    private static func readList<T>(_ buffer: inout ByteBuffer, minimumItemBytes: Int,
                                    _ item: (inout ByteBuffer) throws -> T) throws -> [T] {
        let count = Int(try readInteger(&buffer, as: UInt32.self))
        guard count <= buffer.readableBytes / minimumItemBytes else {
            throw WireError.malformed("\(count) items announced, \(buffer.readableBytes) bytes left")
        }
        var items: [T] = []
        items.reserveCapacity(count)
        for _ in 0..<count { items.append(try item(&buffer)) }
        return items
    }
}
