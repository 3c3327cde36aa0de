import Foundation

/// The leading headers of a FITS file read from its first bytes alone, without CFITSIO or the
/// pixels: the primary header and, when the primary holds no data (a mosaic or an fpack file),
/// the header that follows it. What selecting inputs by keyword (`--where`) reads for 10^6 files.
public enum FITSHeaderPeek {
    /// Bytes looked at: a primary header of hundreds of cards and the next one.
    public static let peekBytes = 64 * 1024

    /// The headers of the file at `path`; gzip'd and bzip2'd files are inflated (within `limits`).
    public static func headers(atPath path: String, limits: InputLimits = .standard) throws -> [FITSHeader] {
        if let inflated = try FITSInflation.inflated(contentsOfFile: path, limits: limits) {
            return try headers(in: inflated.prefix(peekBytes), name: path)
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw FITSError(file: path, reason: .unreadable("cannot open the file"))
        }
        defer { try? handle.close() }
        let data: Data
        do { data = try handle.read(upToCount: peekBytes) ?? Data() } catch {
            throw FITSError(file: path, reason: .unreadable(error.localizedDescription))
        }
        return try headers(in: data, name: path)
    }

    /// The headers in the first bytes of a file (`name` names it in errors); compressed bytes are inflated.
    public static func headers(inFileBytes data: Data, name: String, limits: InputLimits = .standard) throws -> [FITSHeader] {
        let plain = try FITSInflation.inflated(data: data, name: name, limits: limits) ?? data
        return try headers(in: plain.prefix(peekBytes), name: name)
    }

    static func headers(in data: Data, name: String) throws -> [FITSHeader] {
        let bytes = [UInt8](data)
        guard bytes.count >= 2880, bytes.starts(with: Array("SIMPLE  =".utf8)) else {
            throw FITSError(file: name, reason: .notFITS("it does not start with SIMPLE ="))
        }
        guard let (primary, end) = header(in: bytes, from: 0) else {
            throw FITSError(file: name, reason: .truncated("no END card in the first \(bytes.count) bytes"))
        }
        var found = [primary]
        if (primary.int("NAXIS") ?? 0) == 0, end < bytes.count, let (next, _) = header(in: bytes, from: end) {
            found.append(next)
        }
        return found
    }

    /// The header starting at `start` and the offset of the block after it.
    private static func header(in bytes: [UInt8], from start: Int) -> (FITSHeader, Int)? {
        var records: [String] = []
        var offset = start
        while offset + 80 <= bytes.count {
            let record = String(decoding: bytes[offset..<(offset + 80)], as: UTF8.self)
            offset += 80
            if record.hasPrefix("END") && record.dropFirst(3).allSatisfy({ $0 == " " }) {
                let next = ((offset + 2879) / 2880) * 2880
                return (FITSHeader(records: records), next)
            }
            records.append(record)
        }
        return nil
    }
}
