import Foundation
import Storage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a manifest (or any JSON-lines object) a line at a time through ranged gets.
enum ManifestLines {
    static let chunkBytes = 4 << 20

    /// Calls `body` with each non-empty line of `key` in `store` (no newline; the bytes are valid
    /// only during the call); nothing when it does not exist. Lines are found with `memchr` in one
    /// buffer, never byte by byte through `Data` (whose per-byte access costs an exclusivity check).
    static func forEach(in store: ObjectStore, key: String, chunkBytes: Int = chunkBytes,
                        _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let size = try store.head(key)?.size else { return }
        var buffer: [UInt8] = []  // the line the last range cut, then the next range
        buffer.reserveCapacity(chunkBytes + 4096)
        var offset = 0
        while offset < size {
            let end = min(size, offset + chunkBytes)
            buffer.append(contentsOf: try store.get(key, range: offset..<end))
            offset = end
            let consumed = try buffer.withUnsafeBytes { try completeLines(in: $0, body) }
            buffer.removeFirst(consumed)
        }
        if !buffer.isEmpty { try buffer.withUnsafeBytes { try body($0) } }
    }

    /// Calls `body` with each non-empty line that ends in a newline; returns the bytes they took.
    private static func completeLines(in bytes: UnsafeRawBufferPointer,
                                      _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        var start = 0
        while start < bytes.count, let found = memchr(base + start, 0x0A, bytes.count - start) {
            let newline = UnsafeRawPointer(found) - base
            if newline > start { try body(UnsafeRawBufferPointer(rebasing: bytes[start..<newline])) }
            start = newline + 1
        }
        return start
    }
}
