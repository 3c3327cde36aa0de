import Foundation

/// The leading headers of a FITS file read from its first bytes alone, without CFITSIO or the
/// pixels: the primary header and, when the primary holds no data (a mosaic or an fpack file),
/// the header that follows it. What selecting inputs by keyword (`--where`) reads for 10^6 files.
public enum FITSHeaderPeek {
    /// Bytes looked at: a primary header of hundreds of cards and the next one.
    public static let peekBytes = 64 * 1024

    /// The headers of the file at `path`; gzip'd and bzip2'd files are inflated (within `limits`).
    /// With `only`, just those keywords' cards are parsed (what a selection reads: much less work).
    public static func headers(atPath path: String, limits: InputLimits = .standard,
                               only keywords: Set<String>? = nil) throws -> [FITSHeader] {
        // One open and one read: this runs for every input of a survey at plan time.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let reason = errno == ENOENT ? FITSError.Reason.fileNotFound : .unreadable(String(cString: strerror(errno)))
            throw FITSError(file: path, reason: reason)
        }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: peekBytes)
        var count = 0
        while count < peekBytes {
            let got = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + count, peekBytes - count) }
            if got < 0, errno == EINTR { continue }
            guard got >= 0 else { throw FITSError(file: path, reason: .unreadable(String(cString: strerror(errno)))) }
            if got == 0 { break }
            count += got
        }
        let data = Data(buffer[0..<count])
        let signature = try data.withUnsafeBytes { try FileSignature.check(bytes: $0, name: path) }
        if signature == .gzip || signature == .bzip2,
           let inflated = try FITSInflation.inflated(contentsOfFile: path, limits: limits) {
            return try headers(in: inflated.prefix(peekBytes), name: path, only: keywords)
        }
        return try headers(in: data, name: path, only: keywords)
    }

    /// The headers in the first bytes of a file (`name` names it in errors); compressed bytes are inflated.
    public static func headers(inFileBytes data: Data, name: String, limits: InputLimits = .standard,
                               only keywords: Set<String>? = nil) throws -> [FITSHeader] {
        let plain = try FITSInflation.inflated(data: data, name: name, limits: limits) ?? data
        return try headers(in: plain.prefix(peekBytes), name: name, only: keywords)
    }

    static func headers(in data: Data, name: String, only keywords: Set<String>? = nil) throws -> [FITSHeader] {
        let wanted = keywords.map { $0.union(["NAXIS", "CONTINUE"]) }
        let bytes = [UInt8](data)
        guard bytes.starts(with: Array("SIMPLE  =".utf8)) else {
            throw FITSError(file: name, reason: .notFITS("it does not start with SIMPLE ="))
        }
        guard bytes.count >= 2880 else {
            throw FITSError(file: name, reason: .truncated("\(bytes.count) bytes, less than one 2880-byte header block"))
        }
        guard let (primary, end) = header(in: bytes, from: 0, only: wanted) else {
            throw FITSError(file: name, reason: .truncated("no END card in the first \(bytes.count) bytes"))
        }
        var found = [primary]
        if (primary.int("NAXIS") ?? 0) == 0, end < bytes.count, let (next, _) = header(in: bytes, from: end, only: wanted) {
            found.append(next)
        }
        return found
    }

    /// The header starting at `start` and the offset of the block after it.
    private static func header(in bytes: [UInt8], from start: Int, only wanted: Set<String>?) -> (FITSHeader, Int)? {
        var records: [String] = []
        var offset = start
        let end = Array("END".utf8), blank = UInt8(ascii: " ")
        while offset + 80 <= bytes.count {
            let record = bytes[offset..<(offset + 80)]
            offset += 80
            if record.starts(with: end) && record.dropFirst(3).allSatisfy({ $0 == blank }) {
                let next = ((offset + 2879) / 2880) * 2880
                return (FITSHeader(records: records), next)
            }
            if let wanted {
                // The keyword alone is decoded to decide; the card is parsed only when wanted.
                let name = record.prefix(8)
                let keyword = String(decoding: name[name.startIndex..<(name.lastIndex { $0 != blank }.map { $0 + 1 } ?? name.startIndex)],
                                     as: UTF8.self).uppercased()
                // CONTINUE cards are kept only after a kept card (they extend its string).
                guard wanted.contains(keyword), keyword != "CONTINUE" || !records.isEmpty else { continue }
            }
            records.append(String(decoding: record, as: UTF8.self))
        }
        return nil
    }
}
