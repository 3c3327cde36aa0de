import Foundation

/// Byte strings (an entry's frame rows as JSON) appended into 4 MB chunks and addressed by a
/// 12-byte `Span`: one allocation per chunk instead of a `Data` and a dictionary slot per input,
/// and no chunk is ever copied as the arena grows. A string set again leaves its old bytes
/// behind (an input's entry is set a few times at most).
struct ByteArena {
    struct Span {
        var chunk: UInt32 = 0
        var offset: UInt32 = 0
        var count: UInt32 = 0
    }

    static let chunkBytes = 4 << 20

    private var chunks: [[UInt8]] = []
    /// The chunk small strings go to; a string above a quarter of a chunk gets a chunk of its own.
    private var current: Int?
    /// Bytes held (for the bytes-per-input figure and tests).
    private(set) var byteCount = 0

    mutating func append(_ bytes: UnsafeRawBufferPointer) -> Span? {
        guard let count = UInt32(exactly: bytes.count), chunks.count < Int(UInt32.max) else { return nil }
        let index: Int
        if bytes.count > Self.chunkBytes / 4 {
            index = chunks.count
            chunks.append([UInt8]())
            chunks[index].reserveCapacity(bytes.count)
        } else if let current, chunks[current].count + bytes.count <= chunks[current].capacity {
            index = current
        } else {
            index = chunks.count
            chunks.append([UInt8]())
            chunks[index].reserveCapacity(Self.chunkBytes)
            current = index
        }
        let span = Span(chunk: UInt32(index), offset: UInt32(chunks[index].count), count: count)
        chunks[index].append(contentsOf: bytes)
        byteCount += bytes.count
        return span
    }

    mutating func append(_ data: Data) -> Span? {
        data.withUnsafeBytes { append($0) }
    }

    func data(_ span: Span) -> Data {
        chunks[Int(span.chunk)].withUnsafeBytes { chunk in
            Data(chunk[Int(span.offset)..<Int(span.offset) + Int(span.count)])
        }
    }
}
