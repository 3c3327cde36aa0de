import Foundation

/// How many bytes an input's pixels take as float32 (what reading and extracting it costs, to
/// within a small factor), known before the image is read: from the header of a plain FITS file
/// on a file system (its first blocks, NAXISn or a tile-compressed image's ZNAXISn), else from the
/// size of the file or object, doubled (an int16 image, the common survey case, doubles as float32;
/// compressed files grow more, float32 ones less).
enum ImageFootprint {
    /// Header bytes looked at: enough for a primary header of hundreds of cards and, in an fpack
    /// file, the compressed image's header after an empty primary.
    static let peekBytes = 64 * 1024

    static func pixelBytes(of input: InputFile) -> Int {
        let uri = input.uri.hasPrefix("file://") ? String(input.uri.dropFirst("file://".count)) : input.uri
        if !uri.contains("://"), !uri.hasSuffix(".gz"), let fromHeader = headerPixelBytes(path: uri) {
            return fromHeader
        }
        var size = Int(input.size)
        if size == 0, !uri.contains("://") {
            size = ((try? FileManager.default.attributesOfItem(atPath: uri)[.size]) as? Int) ?? 0
        }
        return size * 2
    }

    /// The largest image the first header blocks describe, as float32 bytes; nil if none is readable.
    static func headerPixelBytes(path: String) -> Int? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: peekBytes), data.count >= 2880 else { return nil }
        return headerPixelBytes(data)
    }

    static func headerPixelBytes(_ data: Data) -> Int? {
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
