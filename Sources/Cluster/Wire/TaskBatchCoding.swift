import Engine
import Foundation
import NIOCore

/// The bodies of `launchTasks` and `taskResults` (protocol 3): a u32 count, then that many specs or
/// results in Engine's binary layout (`TaskBinaryCoding`, shared with the worker processes' pipes)
/// instead of JSON: JSON decoding was a sixth of the master's CPU per task.
///
/// Reading checks every count against the bytes left, so a hostile frame fails with
/// `WireError.malformed` before anything large is allocated.
enum TaskBatchCoding {
    static func write(_ specs: [TaskSpec], to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(specs.count))
        for spec in specs { TaskBinaryCoding.write(spec, to: &buffer) }
    }

    static func write(_ results: [TaskResult], to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(results.count))
        for result in results { TaskBinaryCoding.write(result, to: &buffer) }
    }

    static func readSpecs(_ buffer: inout ByteBuffer) throws -> [TaskSpec] {
        try refusingMalformed {
            try TaskBinaryCoding.readList(&buffer, minimumItemBytes: TaskBinaryCoding.minimumItemBytes) {
                try TaskBinaryCoding.readSpec(&$0)
            }
        }
    }

    static func readResults(_ buffer: inout ByteBuffer) throws -> [TaskResult] {
        try refusingMalformed {
            try TaskBinaryCoding.readList(&buffer, minimumItemBytes: TaskBinaryCoding.minimumItemBytes) {
                try TaskBinaryCoding.readResult(&$0)
            }
        }
    }

    /// The body must have been read to its end: trailing bytes mean a peer of another layout.
    static func finish(_ buffer: ByteBuffer) throws {
        guard buffer.readableBytes == 0 else { throw WireError.malformed("\(buffer.readableBytes) bytes after the batch") }
    }

    private static func refusingMalformed<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as TaskCodingError { throw WireError.malformed(error.reason) }
    }
}

extension ByteBuffer: TaskBytesOut, TaskBytesIn {
    public mutating func writeTaskU8(_ value: UInt8) { writeInteger(value) }
    public mutating func writeTaskU32(_ value: UInt32) { writeInteger(value) }
    public mutating func writeTaskU64(_ value: UInt64) { writeInteger(value) }

    public mutating func writeTaskString(_ string: String) {
        let lengthAt = writerIndex
        writeInteger(UInt32(0))
        let written = writeString(string)
        setInteger(UInt32(written), at: lengthAt)
    }

    public mutating func writeTaskBytes(_ data: Data) {
        writeInteger(UInt32(data.count))
        writeBytes(data)
    }

    public mutating func readTaskInteger<T: FixedWidthInteger>() -> T? { readInteger(as: T.self) }
    public mutating func readTaskString(count: Int) -> String? { readString(length: count) }
    public mutating func readTaskData(count: Int) -> Data? { readBytes(length: count).map { Data($0) } }
}
