import Foundation

/// A look at a file's first bytes, so that a file that is not FITS gets a clear error before
/// CFITSIO tries to parse it.
enum FileSignature: Equatable {
    case fits
    case gzip
    /// bzip2, as SDSS ships its frames (Bunzip2 undoes it).
    case bzip2
    /// Another compression CFITSIO may undo itself (zip, Unix compress/pack).
    case otherCompression

    private static let prefixLength = 10

    @discardableResult
    static func check(path: String) throws -> FileSignature {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FITSError(file: path, reason: .fileNotFound)
        }
        if isDirectory.boolValue {
            throw FITSError(file: path, reason: .unreadable("it is a directory"))
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            let why = FileManager.default.isReadableFile(atPath: path) ? "cannot open it" : "permission denied"
            throw FITSError(file: path, reason: .unreadable(why))
        }
        defer { try? handle.close() }
        let prefix = (try? handle.read(upToCount: prefixLength)) ?? Data()
        return try prefix.withUnsafeBytes { try check(bytes: $0, name: path) }
    }

    @discardableResult
    static func check(bytes: UnsafeRawBufferPointer, name: String) throws -> FileSignature {
        let head = Array(bytes.prefix(prefixLength))
        if head.isEmpty {
            throw FITSError(file: name, reason: .notFITS("it is empty"))
        }
        if head.starts(with: [0x1F, 0x8B]) { return .gzip }
        if head.starts(with: Array("BZh".utf8)) { return .bzip2 }
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04])
            || head.starts(with: [0x1F, 0x9D]) || head.starts(with: [0x1F, 0x1E]) {
            return .otherCompression
        }
        // "SIMPLE  = " padded to 8 characters then the value indicator.
        if head.starts(with: Array("SIMPLE".utf8)) { return .fits }
        throw FITSError(file: name, reason: .notFITS("it does not begin with the SIMPLE keyword"))
    }
}
