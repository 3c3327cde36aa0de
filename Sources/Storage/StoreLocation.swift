import Foundation

/// Where objects live: `s3://bucket/prefix`, `file:///absolute/dir`, or a plain path.
///
/// An S3 prefix is kept without a leading slash and, when not empty, with a trailing one, so that
/// `s3://bucket/images` and `s3://bucket/images/` name the same place. File paths are absolute
/// and standardized (a relative path is taken from the current directory).
public enum StoreLocation: Hashable, CustomStringConvertible, Sendable {
    case s3(bucket: String, prefix: String)
    case file(path: String)

    /// Parses a location string; throws `.invalidArgument` naming the string and what is wrong.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        func invalid(_ why: String) -> StorageError {
            StorageError(.invalidArgument, location: text, message: "invalid location: \(why)")
        }
        if trimmed.isEmpty { throw invalid("empty") }
        if let rest = trimmed.dropPrefix("s3://") {
            let parts = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            let bucket = String(parts[0])
            guard StoreLocation.isValidBucketName(bucket) else {
                throw invalid("'\(bucket)' is not an S3 bucket name (3-63 characters: a-z, 0-9, '.', '-')")
            }
            self = .s3(bucket: bucket, prefix: StoreLocation.directoryPrefix(parts.count > 1 ? String(parts[1]) : ""))
        } else if let rest = trimmed.dropPrefix("file://") {
            // file:///abs or file://localhost/abs; a remote host cannot be reached as a file.
            guard let slash = rest.firstIndex(of: "/") else { throw invalid("file URL without a path") }
            let host = rest[..<slash]
            guard host.isEmpty || host == "localhost" else {
                throw invalid("file URL names host '\(host)'; use a path on a shared file system")
            }
            let path = String(rest[slash...]).removingPercentEncoding ?? String(rest[slash...])
            self = .file(path: StoreLocation.standardize(path))
        } else if trimmed.contains("://") {
            throw invalid("unsupported scheme (use s3://, file:// or a path)")
        } else {
            self = .file(path: StoreLocation.standardize(trimmed))
        }
    }

    public var description: String {
        switch self {
        case let .s3(bucket, prefix): return "s3://\(bucket)/\(prefix)"
        case let .file(path): return path
        }
    }

    /// The location of `key` under this one.
    public func appending(_ key: String) -> StoreLocation {
        switch self {
        case let .s3(bucket, prefix): return .s3(bucket: bucket, prefix: prefix + key)
        case let .file(path): return .file(path: path == "/" ? "/" + key : path + "/" + key)
        }
    }

    static func directoryPrefix(_ raw: String) -> String {
        var prefix = raw
        while prefix.hasPrefix("/") { prefix.removeFirst() }
        if !prefix.isEmpty && !prefix.hasSuffix("/") { prefix += "/" }
        return prefix
    }

    static func standardize(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path
            : FileManager.default.currentDirectoryPath + "/" + path
        let standardized = (absolute as NSString).standardizingPath
        return standardized.isEmpty ? "/" : standardized
    }

    static func isValidBucketName(_ name: String) -> Bool {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789.-_")
        return (3...63).contains(name.count) && name.allSatisfy(allowed.contains)
            && name.first != "." && name.first != "-"
    }
}

extension String {
    func dropPrefix(_ prefix: String) -> Substring? {
        hasPrefix(prefix) ? dropFirst(prefix.count) : nil
    }
}
