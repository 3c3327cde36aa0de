import Foundation

/// Outer compression (gzip, bzip2) undone once, so a caller that reads several HDUs of one
/// input (the HDU list, then each image) does not inflate it again for each.
public enum FITSInflation {
    /// The inflated bytes of a gzip'd or bzip2'd FITS file on disk, bounded by
    /// `limits.maxInflatedBytes`; nil when the file has no outer compression.
    public static func inflated(contentsOfFile path: String, limits: InputLimits = .standard) throws -> Data? {
        let signature = try FileSignature.check(path: path)
        guard signature == .gzip || signature == .bzip2 else { return nil }
        let compressed: Data
        do {
            compressed = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw FITSError(file: path, reason: .unreadable(error.localizedDescription))
        }
        return try inflated(data: compressed, name: path, limits: limits)
    }

    /// The same for bytes in memory (`name` names them in errors).
    public static func inflated(data: Data, name: String, limits: InputLimits = .standard) throws -> Data? {
        try data.withUnsafeBytes { bytes in
            let signature = try FileSignature.check(bytes: bytes, name: name)
            guard signature == .gzip || signature == .bzip2 else { return nil }
            let (buffer, size) = signature == .gzip
                ? try Gunzip.inflate(bytes, name: name, limit: limits.maxInflatedBytes)
                : try Bunzip2.inflate(bytes, name: name, limit: limits.maxInflatedBytes)
            return Data(bytesNoCopy: buffer, count: size, deallocator: .free)
        }
    }
}
