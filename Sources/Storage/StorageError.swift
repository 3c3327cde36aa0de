import Foundation

/// What went wrong with a store, naming where (`s3://bucket/key`, `/path/to/file`) and why.
/// Its description is one line, e.g.
/// `s3://bucket/key: SignatureDoesNotMatch (403): The request signature we calculated does not match ...`.
public struct StorageError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// The object or directory does not exist.
        case notFound
        /// Credentials were refused or the caller may not do this.
        case accessDenied
        /// A byte range starts at or beyond the end of the object.
        case invalidRange
        /// A location string, key or setting that cannot be used.
        case invalidArgument
        /// A local file system call failed.
        case io
        /// The object store answered with an error not covered above.
        case service
        /// The request never got an answer: connection refused or dropped, timeout.
        case transport
    }

    public var kind: Kind
    /// The store location the error is about.
    public var location: String
    /// The service's error code (S3 `Code`, e.g. `NoSuchKey`), when there is one.
    public var code: String?
    /// The HTTP status, when the error came from an HTTP answer.
    public var status: Int?
    /// What we were doing, when that helps (e.g. "not writable" from `checkWritable`).
    public var context: String?
    /// Why, in words.
    public var message: String

    public init(_ kind: Kind, location: String, code: String? = nil, status: Int? = nil, message: String) {
        self.kind = kind
        self.location = location
        self.code = code
        self.status = status
        self.message = message
    }

    public var description: String {
        var text = location + ": " + (context.map { $0 + ": " } ?? "")
        switch (code, status) {
        case let (code?, status?): text += "\(code) (\(status)): "
        case let (code?, nil): text += "\(code): "
        case let (nil, status?): text += "HTTP \(status): "
        case (nil, nil): break
        }
        return text + message.replacingOccurrences(of: "\n", with: " ")
    }

    /// The same error about `location`, saying what we were doing.
    func with(location: String, context: String) -> StorageError {
        var copy = self
        copy.location = location
        copy.context = context
        return copy
    }

    /// An error for a failed POSIX call, from `errno`.
    static func posix(_ path: String, _ action: String, errno code: Int32 = errno) -> StorageError {
        let kind: Kind
        switch code {
        case ENOENT, ENOTDIR: kind = .notFound
        case EACCES, EPERM, EROFS: kind = .accessDenied
        default: kind = .io
        }
        return StorageError(kind, location: path, message: "\(action): \(String(cString: strerror(code)))")
    }
}
