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
        var offset = 0
        let bytes = [UInt8](data)
        while offset + 80 <= bytes.count {
            let card = String(decoding: bytes[offset..<(offset + 80)], as: UTF8.self)
            offset += 80
            let keyword = card.prefix(8).trimmingCharacters(in: .whitespaces)
            if keyword == "END" {
                closeHeader()
                continue
            }
            guard keyword.hasPrefix("NAXIS") || keyword.hasPrefix("ZNAXIS"), card.dropFirst(8).hasPrefix("=") else { continue }
            let value = card.dropFirst(10).split(separator: "/").first?.trimmingCharacters(in: .whitespaces) ?? ""
            if let number = Int(value) { axes[keyword] = number }
        }
        return best
    }
}
