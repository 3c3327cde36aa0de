import Foundation
import Hashing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Objects under a prefix of an S3 bucket (AWS or any S3-compatible server), signed with SigV4.
///
/// Puts below `multipartThreshold` are one PUT; larger ones are a multipart upload that is
/// aborted if any step fails, so a key never holds a partial object. Requests are retried
/// with backoff on 5xx, SlowDown, timeouts, dropped connections and clock skew.
public final class S3Store: ObjectStore, Sendable {
    public let bucket: String
    /// Key prefix of this store inside the bucket ("" or ending in "/").
    public let prefix: String
    public let settings: S3Settings
    let signer: SigV4Signer
    let client: BlockingHTTPClient
    let retry: RetryPolicy
    let clock = ClockOffset()

    public init(bucket: String, prefix: String = "", settings: S3Settings, credentials: S3Credentials) {
        self.bucket = bucket
        self.prefix = StoreLocation.directoryPrefix(prefix)
        self.settings = settings
        signer = SigV4Signer(credentials: credentials, region: settings.region)
        client = BlockingHTTPClient(timeout: settings.timeout)
        retry = RetryPolicy(maxRetries: settings.maxRetries, baseDelay: settings.retryBaseDelay,
                            maxDelay: settings.retryMaxDelay)
    }

    public var location: StoreLocation { .s3(bucket: bucket, prefix: prefix) }

    // MARK: ObjectStore

    public func list(prefix keyPrefix: String, maxKeys: Int?, continuationToken: String?) throws -> ObjectListing {
        try list(prefix: keyPrefix, maxKeys: maxKeys, continuationToken: continuationToken, startAfter: nil)
    }

    public func list(prefix keyPrefix: String, startAfter: String, maxKeys: Int?) throws -> ObjectListing {
        try list(prefix: keyPrefix, maxKeys: maxKeys, continuationToken: nil, startAfter: startAfter)
    }

    private func list(prefix keyPrefix: String, maxKeys: Int?, continuationToken: String?,
                      startAfter: String?) throws -> ObjectListing {
        var query = [("list-type", "2"), ("prefix", prefix + keyPrefix),
                     ("max-keys", String(min(1000, max(1, maxKeys ?? settings.listPageSize))))]
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        if let startAfter { query.append(("start-after", prefix + startAfter)) }
        let place = location.appending(keyPrefix).description
        let response = try perform(S3Request(method: "GET", key: nil, query: query), location: place)
        guard let root = S3XMLNode.parse(response.body), root.name == "ListBucketResult" else {
            throw StorageError(.service, location: place, message: "unreadable ListObjectsV2 answer")
        }
        let objects = try root.children("Contents").map { node -> ObjectInfo in
            guard let key = node.value("Key"), let size = node.value("Size").flatMap({ Int($0) }) else {
                throw StorageError(.service, location: place, message: "listing entry without Key or Size")
            }
            return ObjectInfo(key: String(key.dropFirst(key.hasPrefix(prefix) ? prefix.count : 0)), size: size,
                              modified: node.value("LastModified").flatMap(Self.parseListingDate))
        }
        let truncated = root.value("IsTruncated") == "true"
        let next = root.value("NextContinuationToken").flatMap { $0.isEmpty ? nil : $0 }
        if truncated && next == nil {
            throw StorageError(.service, location: place, message: "truncated listing without NextContinuationToken")
        }
        return ObjectListing(objects: objects, continuationToken: truncated ? next : nil)
    }

    /// LastModified as ListObjectsV2 gives it: ISO 8601 UTC, with or without milliseconds.
    static func parseListingDate(_ text: String) -> Date? {
        (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text))
            ?? (try? Date.ISO8601FormatStyle().parse(text))
    }

    public func head(_ key: String) throws -> ObjectMetadata? {
        try ObjectKey.validate(key, under: location)
        do {
            let response = try perform(S3Request(method: "HEAD", key: key), location: location(of: key).description)
            guard let size = response.header("content-length").flatMap({ Int($0) }) else {
                throw StorageError(.service, location: location(of: key).description, message: "HEAD answer without Content-Length")
            }
            return ObjectMetadata(size: size, etag: unquoted(response.header("etag") ?? ""))
        } catch let error as StorageError where error.kind == .notFound {
            return nil
        }
    }

    public func get(_ key: String, range: Range<Int>?) throws -> Data {
        try ObjectKey.validate(key, under: location)
        let place = location(of: key).description
        var headers: [(String, String)] = []
        if let range {
            guard range.lowerBound >= 0 else {
                throw StorageError(.invalidRange, location: place, message: "negative range start \(range.lowerBound)")
            }
            if range.isEmpty { return Data() }
            headers.append(("range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)"))
        }
        let response = try perform(S3Request(method: "GET", key: key, headers: headers), location: place)
        if let range, response.status == 200 {
            // A server that ignores Range sends the whole object: cut the range out of it.
            return response.body.subdata(in: try clip(range, size: response.body.count, location: place))
        }
        return response.body
    }

    public func put(_ key: String, data: Data) throws {
        try ObjectKey.validate(key, under: location)
        if data.count >= settings.multipartThreshold {
            try multipartUpload(key, size: data.count) { data.subdata(in: $0) }
        } else {
            try putObject(key, body: data)
        }
    }

    public func put(_ key: String, contentsOf file: URL) throws {
        try ObjectKey.validate(key, under: location)
        let handle: FileHandle
        do { handle = try FileHandle(forReadingFrom: file) } catch {
            throw StorageError(.notFound, location: file.path, message: "cannot open for reading: \(error.localizedDescription)")
        }
        defer { try? handle.close() }
        let size: Int
        do { size = Int(try handle.seekToEnd()) } catch {
            throw StorageError(.io, location: file.path, message: "cannot seek: \(error.localizedDescription)")
        }
        try multipartOrSingle(key, size: size) { range in
            do {
                try handle.seek(toOffset: UInt64(range.lowerBound))
                let data = try handle.read(upToCount: range.count) ?? Data()
                guard data.count == range.count else {
                    throw StorageError(.io, location: file.path, message: "file shrank while uploading (short read at \(range.lowerBound))")
                }
                return data
            } catch let error as StorageError { throw error } catch {
                throw StorageError(.io, location: file.path, message: "read: \(error.localizedDescription)")
            }
        }
    }

    public func delete(_ key: String) throws {
        try ObjectKey.validate(key, under: location)
        do {
            _ = try perform(S3Request(method: "DELETE", key: key), location: location(of: key).description)
        } catch let error as StorageError where error.kind == .notFound && error.code == "NoSuchKey" {
            return
        }
    }

    /// Creates the bucket; an existing bucket of ours is fine. (Tests and demos; jobs expect it to exist.)
    public func createBucket() throws {
        do {
            _ = try perform(S3Request(method: "PUT", key: nil), location: "s3://\(bucket)")
        } catch let error as StorageError where error.code == "BucketAlreadyOwnedByYou" {
            return
        }
    }

    func putObject(_ key: String, body: Data) throws {
        _ = try perform(S3Request(method: "PUT", key: key, body: body), location: location(of: key).description)
    }

    private func unquoted(_ etag: String) -> String {
        etag.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }
}
