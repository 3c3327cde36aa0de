import Foundation
import Hashing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Multipart upload: what makes a large put atomic and restartable per part.
extension S3Store {
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

    func multipartOrSingle(_ key: String, size: Int, read: @escaping (Range<Int>) throws -> Data) throws {
        if size >= settings.multipartThreshold {
            try multipartUpload(key, size: size, readPart: read)
        } else {
            try putObject(key, body: try read(0..<size))
        }
    }

    /// Initiate, upload each part, complete; on any failure abort, so no part outlives the call.
    func multipartUpload(_ key: String, size: Int, readPart: @escaping (Range<Int>) throws -> Data) throws {
        let place = location(of: key).description
        let initiated = try perform(S3Request(method: "POST", key: key, query: [("uploads", "")]), location: place)
        guard let uploadID = S3XMLNode.parse(initiated.body)?.value("UploadId"), !uploadID.isEmpty else {
            throw StorageError(.service, location: place, message: "CreateMultipartUpload answer without UploadId")
        }
        do {
            let etags = try uploadParts(key, uploadID: uploadID, size: size, readPart: readPart)
            let parts = etags.enumerated().map {
                "<Part><PartNumber>\($0.offset + 1)</PartNumber><ETag>\(xmlEscaped($0.element))</ETag></Part>"
            }.joined()
            let body = Data("<CompleteMultipartUpload>\(parts)</CompleteMultipartUpload>".utf8)
            let completed = try perform(S3Request(method: "POST", key: key, query: [("uploadId", uploadID)], body: body),
                                        location: place)
            // CompleteMultipartUpload can fail after a 200 status, with an Error document as the body.
            if let root = S3XMLNode.parse(completed.body), root.name == "Error" {
                throw StorageError(.service, location: place, code: root.value("Code"), status: completed.status,
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
        let work = PartQueue(size: size, partSize: settings.partSize, readPart: readPart)
        let place = location(of: key).description
        let group = DispatchGroup()
        for _ in 0..<min(settings.uploadConcurrency, work.count) {
            group.enter()
            Thread {
                defer { group.leave() }
                while let (index, part) = work.next() {
                    do {
                        let response = try self.perform(
                            S3Request(method: "PUT", key: key,
                                      query: [("partNumber", String(index + 1)), ("uploadId", uploadID)], body: part),
                            location: place)
                        guard let etag = response.header("etag") else {
                            throw StorageError(.service, location: place, message: "UploadPart \(index + 1) answer without ETag")
                        }
                        work.finish(index, etag: etag)
                    } catch {
                        work.fail(error)
                    }
                }
            }.start()
        }
        group.wait()
        return try work.etags()
    }
}

/// The parts of one upload, handed out to the uploading threads in order, and their ETags.
/// @unchecked: `lock` guards `nextIndex`, `failure` and `tags`, and runs `readPart` one call at a time.
private final class PartQueue: @unchecked Sendable {
    let count: Int
    private let size: Int
    private let partSize: Int
    private let readPart: (Range<Int>) throws -> Data
    private let lock = NSLock()
    private var nextIndex = 0
    private var failure: Error?
    private var tags: [String?]

    init(size: Int, partSize: Int, readPart: @escaping (Range<Int>) throws -> Data) {
        self.size = size
        self.partSize = partSize
        self.readPart = readPart
        count = max(1, (size + partSize - 1) / partSize)
        tags = Array(repeating: nil, count: count)
    }

    /// The next part and its bytes; nil when all are handed out or one has failed.
    func next() -> (Int, Data)? {
        lock.withLock {
            guard failure == nil, nextIndex < count else { return nil }
            let index = nextIndex
            nextIndex += 1
            do {
                return (index, try readPart(index * partSize..<min(size, (index + 1) * partSize)))
            } catch {
                failure = error
                return nil
            }
        }
    }

    func finish(_ index: Int, etag: String) { lock.withLock { tags[index] = etag } }

    func fail(_ error: Error) { lock.withLock { failure = failure ?? error } }

    func etags() throws -> [String] {
        try lock.withLock {
            if let failure { throw failure }
            return tags.map { $0! }
        }
    }
}
