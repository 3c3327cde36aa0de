import Engine
import FITS
import Foundation
import Hashing
import Storage

/// Opens an input image wherever it lives. Local paths go straight to CFITSIO (which also
/// reads .gz and .fz); objects in a store are read into memory and opened from there, or,
/// above `sextant.input.spoolThreshold` bytes (default 512 MiB), spooled to a temporary
/// file first, so a huge object does not have to fit in memory twice.
///
/// An opened input also says which bytes it is (`InputFingerprint`): their SHA-256 when asked
/// (hashed in memory for objects; a file is read once to hash it, and CFITSIO then reads it
/// from the page cache), the size, and the ETag or modification time.
enum ImageLoader {
    /// An input fetched once, whose HDUs are then read one at a time.
    final class OpenedInput {
        private enum Backing {
            case path(String)
            case memory(Data)
            case fetched(FetchedObject)
        }

        private let backing: Backing
        let uri: String
        /// `sextant.input.maxPixels` and `maxInflatedBytes`, checked before any pixel buffer.
        var limits = InputLimits.standard
        /// The object's ETag, when the store gave one with its bytes.
        private var etag: String?

        fileprivate init(path: String, uri: String) { backing = .path(path); self.uri = uri }
        fileprivate init(data: Data, uri: String, etag: String? = nil) {
            backing = .memory(data); self.uri = uri; self.etag = etag
        }
        fileprivate init(object: FetchedObject, uri: String) { backing = .fetched(object); self.uri = uri }

        deinit { if case .fetched(let object) = backing { object.discard() } }

        /// The bytes CFITSIO reads: a gzip'd or bzip2'd input is inflated once, on first use,
        /// and kept for the HDU list and every HDU (a mosaic file is read many times).
        private enum Decoded {
            case file(String)
            case bytes(Data)
        }
        private var decodedInput: Decoded?

        private func decoded() throws -> Decoded {
            if let decodedInput { return decodedInput }
            let result: Decoded
            switch backing {
            case .path(let path):
                result = try FITSInflation.inflated(contentsOfFile: path, limits: limits).map(Decoded.bytes) ?? .file(path)
            case .memory(let data), .fetched(.memory(let data)):
                result = .bytes(try FITSInflation.inflated(data: data, name: uri, limits: limits) ?? data)
            case .fetched(.spooled(let file)), .fetched(.localFile(let file)):
                result = try FITSInflation.inflated(contentsOfFile: file.path, limits: limits).map(Decoded.bytes)
                    ?? .file(file.path)
            }
            decodedInput = result
            return result
        }

        func image(_ hdu: HDUSelection) throws -> FITSImage {
            switch try decoded() {
            case .file(let path): return try FITSImage(contentsOfFile: path, hdu: hdu, limits: limits)
            case .bytes(let data): return try FITSImage(data: data, name: uri, hdu: hdu, limits: limits)
            }
        }

        /// Which bytes this input is; `checksum` also hashes them.
        func fingerprint(checksum: Bool) throws -> InputFingerprint {
            switch backing {
            case .path(let path): return try InputFingerprint.ofFile(path, checksum: checksum)
            case .memory(let data), .fetched(.memory(let data)): return .ofBytes(data, etag: etag, checksum: checksum)
            case .fetched(.spooled(let file)), .fetched(.localFile(let file)):
                var fingerprint = try InputFingerprint.ofFile(file.path, checksum: checksum)
                fingerprint.modified = nil  // a spooled copy's mtime says nothing about the object
                return fingerprint
            }
        }

        /// The primary header, and the next one when the primary holds no data (headers only).
        func leadingHeaders() throws -> [FITSHeader] {
            switch try decoded() {
            case .file(let path): return try FITSHeaderPeek.headers(atPath: path, limits: limits)
            case .bytes(let data): return try FITSHeaderPeek.headers(inFileBytes: data, name: uri, limits: limits)
            }
        }

        /// Every HDU holding an image (headers only).
        func imageHDUs() throws -> [Int] {
            switch try decoded() {
            case .file(let path): return try FITSImage.imageHDUs(contentsOfFile: path, limits: limits)
            case .bytes(let data): return try FITSImage.imageHDUs(data: data, name: uri, limits: limits)
            }
        }
    }

    static func open(_ input: InputFile, stores: StoreCache, settings: [String: String]) throws -> OpenedInput {
        let opened = try fetch(input, stores: stores, settings: settings)
        opened.limits = try InputLimitSettings.limits(from: settings)
        return opened
    }

    private static func fetch(_ input: InputFile, stores: StoreCache, settings: [String: String]) throws -> OpenedInput {
        let uri = input.uri
        guard uri.contains("://"), !uri.hasPrefix("file://") else {
            let path = uri.hasPrefix("file://") ? String(uri.dropFirst("file://".count)) : uri
            return OpenedInput(path: path, uri: uri)
        }
        let (store, key, _) = try stores.storeAndKey(for: uri, settings: settings)
        let threshold = Int(try Configuration(settings).value(of: StorageKeys.spoolThreshold))
        // The listing already gave the size: a small object is one GET, with no HEAD first.
        if input.size > 0, input.size < threshold {
            let (data, etag) = try getWithETag(store, key)
            return OpenedInput(data: data, uri: uri, etag: etag)
        }
        return OpenedInput(object: try store.fetch(key, spoolThreshold: threshold), uri: uri)
    }

    static func load(_ input: InputFile, hdu: HDUSelection, stores: StoreCache,
                     settings: [String: String]) throws -> FITSImage {
        try open(input, stores: stores, settings: settings).image(hdu)
    }

    static func getWithETag(_ store: ObjectStore, _ key: String) throws -> (Data, String?) {
        if let s3 = store as? S3Store { return try s3.getWithETag(key) }
        return (try store.get(key), nil)
    }
}

/// Which bytes an input was: what its manifest line records and `sextant verify` compares.
struct InputFingerprint: Equatable, Sendable {
    var sha256: String?
    var size: Int64
    var etag: String?
    var modified: String?

    static func ofBytes(_ data: Data, etag: String?, checksum: Bool) -> InputFingerprint {
        InputFingerprint(sha256: checksum ? Digest.sha256(data).hexString : nil, size: Int64(data.count), etag: etag)
    }

    /// The input's fingerprint without decoding it (a file is read once, an object fetched once).
    static func of(_ input: InputFile, settings: [String: String], checksum: Bool) throws -> InputFingerprint {
        let uri = input.uri
        guard uri.contains("://"), !uri.hasPrefix("file://") else {
            return try ofFile(uri.hasPrefix("file://") ? String(uri.dropFirst("file://".count)) : uri, checksum: checksum)
        }
        let (store, key, _) = try StoreCache.shared.storeAndKey(for: uri, settings: settings)
        do {
            let (data, etag) = try ImageLoader.getWithETag(store, key)
            return .ofBytes(data, etag: etag, checksum: checksum)
        } catch let error as StorageError where error.kind == .notFound {
            throw InputError.notFound(uri)
        }
    }

    /// Size and mtime from the open file, and, when asked, the SHA-256 of its bytes read in 4 MiB chunks.
    static func ofFile(_ path: String, checksum: Bool) throws -> InputFingerprint {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw InputError.notFound(path) }
            throw InputError.unreadable(path, reason: "cannot open it to hash it: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw InputError.unreadable(path, reason: "cannot stat it") }
        let modified = Date(timeIntervalSince1970: Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9)
        var fingerprint = InputFingerprint(size: Int64(info.st_size), modified: Timestamp.string(modified))
        guard checksum else { return fingerprint }
        let hasher = SHA256Hasher()
        let chunk = 4 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer, chunk)
            if n < 0 {
                if errno == EINTR { continue }
                throw InputError.unreadable(path, reason: "read error while hashing: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            hasher.update(UnsafeRawPointer(buffer), count: n)
        }
        fingerprint.sha256 = hasher.finalize().hexString
        return fingerprint
    }
}
