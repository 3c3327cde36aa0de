import Foundation
import Storage

/// Reads a manifest (or any JSON-lines object) a line at a time through ranged gets.
enum ManifestLines {
    static let chunkBytes = 4 << 20

    /// Calls `body` with each non-empty line of `key` in `store`; nothing when it does not exist.
    static func forEach(in store: ObjectStore, key: String, chunkBytes: Int = chunkBytes,
                        _ body: (Data) throws -> Void) throws {
        guard let size = try store.head(key)?.size else { return }
        var carry = Data()
        var offset = 0
        while offset < size {
            let end = min(size, offset + chunkBytes)
            var chunk = carry
            chunk.append(try store.get(key, range: offset..<end))
            offset = end
            var start = chunk.startIndex
            while let newline = chunk[start...].firstIndex(of: UInt8(ascii: "\n")) {
                if newline > start { try body(Data(chunk[start..<newline])) }
                start = newline + 1
            }
            carry = Data(chunk[start...])
        }
        if !carry.isEmpty { try body(carry) }
    }
}
