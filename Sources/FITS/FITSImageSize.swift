import Foundation

/// The size of an image known from its header alone, before its pixels are read: what the
/// pipeline needs to bound how many huge images are in memory at once. Reads only the first
/// header blocks (a primary header of hundreds of cards and, in an fpack file, the compressed
/// image's header after an empty primary); gzip'd files are not looked into.
public enum FITSImageSize {
    /// Header bytes looked at.
    public static let peekBytes = 64 * 1024

    /// The largest image the first header blocks of the file describe, as float32 bytes; nil if none is readable.
    public static func float32Bytes(atPath path: String) -> Int? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: peekBytes), data.count >= 2880 else { return nil }
        return float32Bytes(inHeader: data)
    }

    /// The largest image (NAXISn or a tile-compressed ZNAXISn) the header blocks in `data` describe.
    /// Cards are compared as bytes and only NAXIS cards become strings: this runs once per input
    /// before it is read, and the 64 KiB peeked at is mostly pixels (819 "cards" of them).
    public static func float32Bytes(inHeader data: Data) -> Int? {
        var axes: [String: Int] = [:]
        var best: Int?
        func closeHeader() {
            for prefix in ["Z", ""] {
                guard let count = axes["\(prefix)NAXIS"], count > 0 else { continue }
                let sizes = (1...min(count, 9)).map { axes["\(prefix)NAXIS\($0)"] ?? 0 }
                let pixels = sizes.reduce(1) { $0.multipliedReportingOverflow(by: max(0, $1)).partialValue }
                best = max(best ?? 0, pixels.multipliedReportingOverflow(by: 4).partialValue)
                break
            }
            axes = [:]
        }
        data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            var offset = 0
            while offset + 80 <= bytes.count {
                let card = UnsafeBufferPointer(rebasing: bytes[offset..<(offset + 80)])
                offset += 80
                let keyword = trimmed(card[0..<8])
                if keyword.elementsEqual("END".utf8) {
                    closeHeader()
                    continue
                }
                guard keyword.starts(with: "NAXIS".utf8) || keyword.starts(with: "ZNAXIS".utf8), card[8] == UInt8(ascii: "=")
                else { continue }
                let field = card[10...]
                let value = trimmed(field[..<(field.firstIndex(of: UInt8(ascii: "/")) ?? field.endIndex)])
                if let number = Int(String(decoding: value, as: UTF8.self)) {
                    axes[String(decoding: keyword, as: UTF8.self)] = number
                }
            }
        }
        return best
    }

    /// `bytes` without leading and trailing blanks (space, tab).
    private static func trimmed(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Slice<UnsafeBufferPointer<UInt8>> {
        func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
        guard let first = bytes.firstIndex(where: { !isBlank($0) }),
              let last = bytes.lastIndex(where: { !isBlank($0) }) else { return bytes[bytes.startIndex..<bytes.startIndex] }
        return bytes[first...last]
    }
}
