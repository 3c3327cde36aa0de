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
        try forEachWithOffset(in: store, key: key, chunkBytes: chunkBytes) { line, _ in try body(line) }
    }

    /// `forEach`, with the offset in `key` at which each line starts.
    static func forEachWithOffset(in store: ObjectStore, key: String, chunkBytes: Int = chunkBytes,
                                  _ body: (UnsafeRawBufferPointer, Int) throws -> Void) throws {
        guard let size = try store.head(key)?.size else { return }
        var buffer: [UInt8] = []  // the line the last range cut, then the next range
        buffer.reserveCapacity(chunkBytes + 4096)
        var offset = 0
        while offset < size {
            let end = min(size, offset + chunkBytes)
            buffer.append(contentsOf: try store.get(key, range: offset..<end))
            let bufferStart = end - buffer.count  // where the buffer's first byte is in `key`
            offset = end
            let consumed = try buffer.withUnsafeBytes { try completeLines(in: $0, at: bufferStart, body) }
            buffer.removeFirst(consumed)
        }
        if !buffer.isEmpty { try buffer.withUnsafeBytes { try body($0, size - $0.count) } }
    }

    /// Calls `body` with each non-empty line that ends in a newline; returns the bytes they took.
    private static func completeLines(in bytes: UnsafeRawBufferPointer, at bufferStart: Int,
                                      _ body: (UnsafeRawBufferPointer, Int) throws -> Void) throws -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        var start = 0
        while start < bytes.count, let found = memchr(base + start, 0x0A, bytes.count - start) {
            let newline = UnsafeRawPointer(found) - base
            if newline > start { try body(UnsafeRawBufferPointer(rebasing: bytes[start..<newline]), bufferStart + start) }
            start = newline + 1
        }
        return start
    }
}

/// Reads lines of an earlier manifest back by their ranges (`EntryTable.earlierLine`), for a
/// resume that copies them into the new one: a window of `chunkBytes` read ahead, so lines
/// asked for in file order (a resume's inputs in the earlier run's order) are read once.
/// Only while the manifest is the one the ranges were taken from: `init` fails otherwise.
final class EarlierManifest {
    private let store: ObjectStore
    private let key: String
    private let size: Int
    private let chunkBytes: Int
    private var window: [UInt8] = []
    private var windowStart = 0

    /// Nil unless `key` still has the `etag` it had when its lines were read.
    init?(store: ObjectStore, key: String, etag: String?, chunkBytes: Int = ManifestLines.chunkBytes) {
        guard let etag, let now = try? store.head(key), now.etag == etag else { return nil }
        self.store = store
        self.key = key
        self.size = now.size
        self.chunkBytes = chunkBytes
    }

    /// Calls `body` with the bytes at `range`; false (and no call) when the manifest is shorter.
    func withLine(_ range: Range<Int>, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        guard range.upperBound <= size else { return false }
        if range.lowerBound < windowStart || range.upperBound > windowStart + window.count {
            let end = min(size, range.lowerBound + max(chunkBytes, range.count))
            window = [UInt8](try store.get(key, range: range.lowerBound..<end))
            windowStart = range.lowerBound
            guard window.count == end - range.lowerBound else { return false }
        }
        try window.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[(range.lowerBound - windowStart)..<(range.upperBound - windowStart)])) }
        return true
    }
}
