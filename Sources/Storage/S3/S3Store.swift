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
public final class S3Store: ObjectStore, @unchecked Sendable {
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
        var query = [("list-type", "2"), ("prefix", prefix + keyPrefix),
                     ("max-keys", String(min(1000, max(1, maxKeys ?? settings.listPageSize))))]
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        let where_ = location.appending(keyPrefix).description
        let response = try perform(S3Request(method: "GET", key: nil, query: query), location: where_)
        guard let root = S3XMLNode.parse(response.body), root.name == "ListBucketResult" else {
            throw StorageError(.service, location: where_, message: "unreadable ListObjectsV2 answer")
        }
        let objects = try root.children("Contents").map { node -> ObjectInfo in
            guard let key = node.value("Key"), let size = node.value("Size").flatMap({ Int($0) }) else {
                throw StorageError(.service, location: where_, message: "listing entry without Key or Size")
            }
            return ObjectInfo(key: String(key.dropFirst(key.hasPrefix(prefix) ? prefix.count : 0)), size: size)
        }
        let truncated = root.value("IsTruncated") == "true"
        let next = root.value("NextContinuationToken").flatMap { $0.isEmpty ? nil : $0 }
        if truncated && next == nil {
            throw StorageError(.service, location: where_, message: "truncated listing without NextContinuationToken")
        }
        return ObjectListing(objects: objects, continuationToken: truncated ? next : nil)
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
        let where_ = location(of: key).description
        var headers: [(String, String)] = []
        if let range {
            guard range.lowerBound >= 0 else {
                throw StorageError(.invalidRange, location: where_, message: "negative range start \(range.lowerBound)")
            }
            if range.isEmpty { return Data() }
            headers.append(("range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)"))
        }
        let response = try perform(S3Request(method: "GET", key: key, headers: headers), location: where_)
        if let range, response.status == 200, response.body.count > range.count {
            // A server that ignores Range sends the whole object.
            let upper = min(range.upperBound, response.body.count)
            guard range.lowerBound < upper else {
                throw StorageError(.invalidRange, location: where_, message: "range starts past the end (\(response.body.count) bytes)")
            }
            return response.body.subdata(in: range.lowerBound..<upper)
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

    // MARK: Multipart

    /// Multipart uploads begun and neither completed nor aborted, under `keyPrefix`.
    public func pendingUploads(prefix keyPrefix: String = "") throws -> [(key: String, uploadID: String)] {
        let response = try perform(S3Request(method: "GET", key: nil, query: [("uploads", ""), ("prefix", prefix + keyPrefix)]),
                                   location: location.appending(keyPrefix).description)
        guard let root = S3XMLNode.parse(response.body) else {
            throw StorageError(.service, location: location.description, message: "unreadable ListMultipartUploads answer")
        }
        return root.children("Upload").compactMap { node in
            guard let key = node.value("Key"), let id = node.value("UploadId") else { return nil }
            return (String(key.dropFirst(key.hasPrefix(prefix) ? prefix.count : 0)), id)
        }
    }

    /// Aborts an upload left behind (e.g. by a killed process).
    public func abortUpload(_ key: String, uploadID: String) throws {
        _ = try perform(S3Request(method: "DELETE", key: key, query: [("uploadId", uploadID)]),
                        location: location(of: key).description)
    }

    private func multipartOrSingle(_ key: String, size: Int, read: @escaping (Range<Int>) throws -> Data) throws {
        if size >= settings.multipartThreshold {
            try multipartUpload(key, size: size, readPart: read)
        } else {
            try putObject(key, body: try read(0..<size))
        }
    }

    /// Initiate, upload each part, complete; on any failure abort, so no part outlives the call.
    func multipartUpload(_ key: String, size: Int, readPart: @escaping (Range<Int>) throws -> Data) throws {
        let where_ = location(of: key).description
        let initiated = try perform(S3Request(method: "POST", key: key, query: [("uploads", "")]), location: where_)
        guard let uploadID = S3XMLNode.parse(initiated.body)?.value("UploadId"), !uploadID.isEmpty else {
            throw StorageError(.service, location: where_, message: "CreateMultipartUpload answer without UploadId")
        }
        do {
            let etags = try uploadParts(key, uploadID: uploadID, size: size, readPart: readPart)
            let parts = etags.enumerated().map {
                "<Part><PartNumber>\($0.offset + 1)</PartNumber><ETag>\(xmlEscaped($0.element))</ETag></Part>"
            }.joined()
            let body = Data("<CompleteMultipartUpload>\(parts)</CompleteMultipartUpload>".utf8)
            let completed = try perform(S3Request(method: "POST", key: key, query: [("uploadId", uploadID)], body: body),
                                        location: where_)
            // CompleteMultipartUpload can fail after a 200 status, with an Error document as the body.
            if let root = S3XMLNode.parse(completed.body), root.name == "Error" {
                throw StorageError(.service, location: where_, code: root.value("Code"), status: completed.status,
                                   message: root.value("Message") ?? "CompleteMultipartUpload failed")
            }
        } catch {
            try? abortUpload(key, uploadID: uploadID)
            throw error
        }
    }

    /// Uploads the parts of `size` bytes with up to `uploadConcurrency` in flight; reads are
    /// serialized (a file handle has one offset). The first failure stops the others.
    private func uploadParts(_ key: String, uploadID: String, size: Int,
                             readPart: @escaping (Range<Int>) throws -> Data) throws -> [String] {
        let partSize = settings.partSize
        let count = (size + partSize - 1) / partSize
        let lock = NSLock()
        var etags = [String?](repeating: nil, count: count)
        var next = 0
        var failure: Error?
        let where_ = location(of: key).description
        do {
            let group = DispatchGroup()
            for _ in 0..<min(settings.uploadConcurrency, count) {
                group.enter()
                Thread {
                    defer { group.leave() }
                    while true {
                        let index: Int
                        let part: Data
                        lock.lock()
                        if failure != nil || next >= count {
                            lock.unlock()
                            return
                        }
                        index = next
                        next += 1
                        do {
                            part = try readPart(index * partSize..<min(size, (index + 1) * partSize))
                        } catch {
                            failure = failure ?? error
                            lock.unlock()
                            return
                        }
                        lock.unlock()
                        do {
                            let response = try self.perform(
                                S3Request(method: "PUT", key: key,
                                          query: [("partNumber", String(index + 1)), ("uploadId", uploadID)], body: part),
                                location: where_)
                            guard let etag = response.header("etag") else {
                                throw StorageError(.service, location: where_, message: "UploadPart \(index + 1) answer without ETag")
                            }
                            lock.withLock { etags[index] = etag }
                        } catch {
                            lock.withLock { failure = failure ?? error }
                            return
                        }
                    }
                }.start()
            }
            group.wait()
            if let failure { throw failure }
        }
        return etags.map { $0! }
    }

    private func putObject(_ key: String, body: Data) throws {
        _ = try perform(S3Request(method: "PUT", key: key, body: body), location: location(of: key).description)
    }

    // MARK: Requests

    struct S3Request {
        var method: String
        /// Key relative to the store, or nil for a bucket-level request.
        var key: String?
        var query: [(String, String)] = []
        /// Extra headers to sign, e.g. range.
        var headers: [(String, String)] = []
        var body = Data()
    }

    /// Sends `request`, retrying what may succeed later; any non-2xx answer becomes a StorageError.
    func perform(_ request: S3Request, location where_: String) throws -> HTTPResponse {
        let payloadHash = Digest.sha256(request.body).hexString
        var attempt = 0
        while true {
            let outcome: Result<HTTPResponse, Error>
            do {
                outcome = .success(try client.send(try urlRequest(request, payloadHash: payloadHash)))
            } catch {
                outcome = .failure(error)
            }
            switch outcome {
            case .success(let response) where (200..<300).contains(response.status):
                return response
            case .success(let response):
                let error = serviceError(response, method: request.method, location: where_)
                guard attempt < retry.maxRetries, RetryPolicy.isRetryable(status: response.status, code: error.code) else {
                    throw error
                }
                if error.code == "RequestTimeTooSkewed" { clock.adjust(serverDate: response.header("date")) }
            case .failure(let error):
                guard attempt < retry.maxRetries, RetryPolicy.isRetryable(error) else {
                    let tries = attempt + 1
                    throw StorageError(.transport, location: where_,
                                       message: "\(request.method) to \(settings.endpoint.absoluteString) failed"
                                           + " after \(tries) attempt\(tries == 1 ? "" : "s"): \(error.localizedDescription)")
                }
            }
            Thread.sleep(forTimeInterval: retry.delay(beforeRetry: attempt))
            attempt += 1
        }
    }

    func urlRequest(_ request: S3Request, payloadHash: String) throws -> URLRequest {
        let endpoint = settings.endpoint
        var host = endpoint.host ?? ""
        if let port = endpoint.port, !(endpoint.scheme == "http" && port == 80), !(endpoint.scheme == "https" && port == 443) {
            host += ":\(port)"
        }
        let encodedKey = request.key.map { SigV4Signer.uriEncode(prefix + $0, keepSlash: true) }
        let path: String
        if settings.pathStyle {
            path = "/" + bucket + (encodedKey.map { "/" + $0 } ?? "")
        } else {
            host = bucket + "." + host
            path = "/" + (encodedKey ?? "")
        }
        var signed = SigV4Signer.Request(
            method: request.method, path: path, query: request.query,
            headers: [("host", host), ("x-amz-content-sha256", payloadHash)] + request.headers,
            payloadHash: payloadHash)
        let authorization = signer.sign(&signed, at: clock.now())
        let query = SigV4Signer.canonicalQuery(request.query)
        let text = "\(endpoint.scheme ?? "https")://\(host)\(path)" + (query.isEmpty ? "" : "?" + query)
        guard let url = URL(string: text) else {
            throw StorageError(.invalidArgument, location: text, message: "cannot form a request URL")
        }
        var urlRequest = URLRequest(url: url)
        urlRequest.httpMethod = request.method
        for (name, value) in signed.headers where name != "host" { urlRequest.setValue(value, forHTTPHeaderField: name) }
        urlRequest.setValue(authorization, forHTTPHeaderField: "Authorization")
        if !request.body.isEmpty || request.method == "PUT" || request.method == "POST" {
            urlRequest.httpBody = request.body
            urlRequest.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
        }
        return urlRequest
    }

    /// The S3 error document (Code, Message) as a StorageError; HEAD answers have no body.
    func serviceError(_ response: HTTPResponse, method: String, location where_: String) -> StorageError {
        let document = S3XMLNode.parse(response.body)
        let code = document?.value("Code")
        let message = document?.value("Message")
            ?? HTTPURLResponse.localizedString(forStatusCode: response.status).capitalized + " (\(method))"
        let kind: StorageError.Kind
        switch (response.status, code) {
        case (404, _): kind = .notFound
        case (401, _), (403, _): kind = .accessDenied
        case (416, _): kind = .invalidRange
        default: kind = .service
        }
        return StorageError(kind, location: where_, code: code, status: response.status, message: message)
    }

    private func unquoted(_ etag: String) -> String {
        etag.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }
}

/// The difference between the server's clock and ours, learnt from a RequestTimeTooSkewed answer.
final class ClockOffset: @unchecked Sendable {
    private let lock = NSLock()
    private var offset: TimeInterval = 0

    func now() -> Date { lock.withLock { Date().addingTimeInterval(offset) } }

    /// Seconds added to the local clock when signing.
    var seconds: TimeInterval {
        get { lock.withLock { offset } }
        set { lock.withLock { offset = newValue } }
    }

    func adjust(serverDate: String?) {
        guard let serverDate else { return }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: serverDate) else { return }
        seconds = date.timeIntervalSinceNow
    }
}
