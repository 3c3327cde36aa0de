import Foundation
import XCTest
import Hashing
import TestSupport
@testable import Storage

/// S3Store against a real SeaweedFS server with credentials enforced (scripts/s3-server).
final class S3StoreTests: XCTestCase {
    func testPutGetHeadRangeAndDelete() throws {
        let store = try S3TestServer.makeStore()
        defer { S3TestServer.empty(store) }
        let data = testBytes(10_000, seed: 7)
        let key = "dir/a b+ü.fits"  // exercises key encoding in the path and the signature
        XCTAssertNil(try store.head(key))

        try store.put(key, data: data)
        let head = try XCTUnwrap(store.head(key))
        XCTAssertEqual(head.size, data.count)
        XCTAssertFalse(head.etag.isEmpty)
        XCTAssertEqual(try store.get(key), data)
        XCTAssertEqual(try S3TestServer.curlGet(store, key), data, "curl reads back what we wrote")
        XCTAssertEqual(try store.get(key, range: 100..<1100), data.subdata(in: 100..<1100))
        XCTAssertEqual(try store.get(key, range: 9_990..<20_000), data.subdata(in: 9_990..<10_000), "clipped at the end")
        XCTAssertEqual(try store.get(key, range: 5..<5), Data())
        XCTAssertThrowsError(try store.get(key, range: 10_000..<10_010)) { error in
            XCTAssertEqual((error as? StorageError)?.kind, .invalidRange, "\(error)")
        }

        try store.put(key, data: Data("replaced".utf8))
        XCTAssertEqual(try store.get(key), Data("replaced".utf8))
        XCTAssertNotEqual(try store.head(key)?.etag, head.etag)

        try store.put("empty", data: Data())
        XCTAssertEqual(try store.head("empty")?.size, 0)
        XCTAssertEqual(try store.get("empty"), Data())

        try store.delete(key)
        XCTAssertNil(try store.head(key))
        XCTAssertNoThrow(try store.delete(key), "deleting an absent key is not an error")
        XCTAssertThrowsError(try store.get(key)) { error in
            let storageError = error as? StorageError
            XCTAssertEqual(storageError?.kind, .notFound)
            XCTAssertEqual(storageError?.code, "NoSuchKey")
            XCTAssertTrue("\(error)".hasPrefix("s3://\(store.bucket)/\(store.prefix)dir/a b+ü.fits: NoSuchKey (404): "), "\(error)")
        }
        XCTAssertThrowsError(try store.put("a/../b", data: data)) { error in
            XCTAssertEqual((error as? StorageError)?.kind, .invalidArgument)
        }
        try store.checkWritable()
    }

    /// Virtual-hosted style: the bucket in the host name (SeaweedFS runs with -s3.domainName=localhost,
    /// and curl resolves *.localhost to the loopback address).
    func testVirtualHostedAddressing() throws {
        let endpoint = try S3TestServer.requireEndpoint().replacingOccurrences(of: "127.0.0.1", with: "localhost")
        let store = try S3TestServer.makeStore(["sextant.s3.pathStyle": "false"], endpoint: endpoint)
        defer { S3TestServer.empty(store) }
        let request = try store.urlRequest(.init(method: "GET", key: "k.fits"), payloadHash: SigV4Signer.emptyPayloadHash)
        XCTAssertEqual(request.url?.host, "\(store.bucket).localhost")
        XCTAssertEqual(request.url?.path, "/\(store.prefix)k.fits")
        try store.put("k.fits", data: Data("virtual".utf8))
        XCTAssertEqual(try store.get("k.fits"), Data("virtual".utf8))
        XCTAssertEqual(try store.listAll().map(\.key), ["k.fits"])
        XCTAssertEqual(try S3TestServer.curlGet(store, "k.fits"), Data("virtual".utf8), "path-style curl sees the same object")
    }

    /// One store shared by worker threads, as the pipeline uses it.
    func testOneStoreServesManyThreads() throws {
        let store = try S3TestServer.makeStore()
        defer { S3TestServer.empty(store) }
        let failures = NSLock()
        var errors: [String] = []
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for i in 0..<20 {
                let key = "w\(worker)/\(i)", data = testBytes(1000 + i, seed: UInt64(worker * 100 + i))
                do {
                    try store.put(key, data: data)
                    if try store.get(key) != data { failures.withLock { errors.append("\(key): wrong bytes") } }
                } catch {
                    failures.withLock { errors.append("\(error)") }
                }
            }
        }
        XCTAssertEqual(errors, [])
        XCTAssertEqual(try store.listAll().count, 80)
    }

    func testListingPaginatesWithContinuationTokens() throws {
        let store = try S3TestServer.makeStore(["sextant.s3.listPageSize": "4"])
        defer { S3TestServer.empty(store) }
        let keys = (0..<23).map { String(format: "images/frame-%03d.fits", $0) } + ["catalogs/x.cat", "images.txt"]
        for (i, key) in keys.enumerated() { try store.put(key, data: testBytes(i + 1, seed: UInt64(i))) }

        var pages = 0
        var listed: [ObjectInfo] = []
        var token: String?
        repeat {
            let page = try store.list(prefix: "images/", maxKeys: 5, continuationToken: token)
            XCTAssertLessThanOrEqual(page.objects.count, 5)
            listed += page.objects
            token = page.continuationToken
            pages += 1
        } while token != nil
        XCTAssertEqual(pages, 5)
        XCTAssertEqual(listed.map(\.key), keys.filter { $0.hasPrefix("images/") }.sorted())
        XCTAssertEqual(listed.map(\.size), Array(1...23), "sizes as stored")
        // SeaweedFS lists "images.txt" after "images/..." (directory order, not S3's byte order),
        // so across directories compare the sets; every page boundary must still lose nothing.
        let all = try store.listAll().map(\.key)
        XCTAssertEqual(all.count, keys.count, "default page size 4, no key twice")
        XCTAssertEqual(Set(all), Set(keys))
        XCTAssertEqual(try store.listAll(prefix: "images").count, 24)
        XCTAssertEqual(try store.listAll(prefix: "nothing-here"), [])
    }

    func testWrongSecretGivesOneClearErrorWithoutRetrying() throws {
        // A large base delay: any retry would show in the elapsed time.
        let store = try S3TestServer.makeStore(["sextant.s3.secretKey": "wrong-secret",
                                                "sextant.s3.retryBaseDelay": "2", "sextant.s3.maxRetries": "3"])
        let start = Date()
        XCTAssertThrowsError(try store.put("x", data: Data("x".utf8))) { error in
            let storageError = error as? StorageError
            XCTAssertEqual(storageError?.kind, .accessDenied)
            XCTAssertEqual(storageError?.code, "SignatureDoesNotMatch")
            XCTAssertEqual(storageError?.status, 403)
            XCTAssertTrue("\(error)".hasPrefix("s3://\(store.bucket)/\(store.prefix)x: SignatureDoesNotMatch (403): The request signature"),
                          "\(error)")
            XCTAssertFalse("\(error)".contains("\n"))
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 1.5, "a 4xx is not retried")
        XCTAssertThrowsError(try store.checkWritable()) { error in
            XCTAssertTrue("\(error)".hasPrefix("s3://\(store.bucket)/\(store.prefix): not writable: SignatureDoesNotMatch (403)"), "\(error)")
        }

        let unknownKey = try S3TestServer.makeStore(["sextant.s3.accessKey": "no-such-key"])
        XCTAssertThrowsError(try unknownKey.checkWritable()) { error in
            XCTAssertEqual((error as? StorageError)?.code, "InvalidAccessKeyId", "\(error)")
        }
    }

    /// A clock an hour slow: the server answers RequestTimeTooSkewed with its Date, the store
    /// corrects its offset and the retry succeeds.
    func testClockSkewIsCorrectedFromTheServerDate() throws {
        let store = try S3TestServer.makeStore(["sextant.s3.maxRetries": "1", "sextant.s3.retryBaseDelay": "0"])
        defer { S3TestServer.empty(store) }
        store.clock.seconds = -3600
        try store.put("skewed", data: Data("late".utf8))
        XCTAssertEqual(abs(store.clock.seconds), 0, accuracy: 5, "offset learnt from the server's Date header")
        XCTAssertEqual(try store.get("skewed"), Data("late".utf8))

        let stubborn = try S3TestServer.makeStore(["sextant.s3.maxRetries": "0"])
        stubborn.clock.seconds = -3600
        XCTAssertThrowsError(try stubborn.put("skewed", data: Data())) { error in
            XCTAssertEqual((error as? StorageError)?.code, "RequestTimeTooSkewed", "\(error)")
        }
    }

    /// 100 MB through multipart from a file, read back whole (spooled to a file) and by ranges.
    func testLargeObjectGoesUpInParts() throws {
        let store = try S3TestServer.makeStore(["sextant.s3.multipartThreshold": "16m", "sextant.s3.partSize": "8m"])
        defer { S3TestServer.empty(store) }
        let size = 100 << 20
        let data = testBytes(size, seed: 42)
        let dir = try TestSupport.makeTemporaryDirectory("s3-multipart")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("big.fits")
        try data.write(to: file)

        let start = Date()
        try store.put("big.fits", contentsOf: file)
        let uploadSeconds = Date().timeIntervalSince(start)
        let head = try XCTUnwrap(store.head("big.fits"))
        XCTAssertEqual(head.size, size)
        XCTAssertTrue(head.etag.hasSuffix("-13"), "a 13-part multipart ETag, got \(head.etag)")
        XCTAssertEqual(try store.pendingUploads().map(\.key), [], "no upload left open")

        let fetched = try store.fetch("big.fits", spoolThreshold: 1 << 20, temporaryDirectory: dir)
        defer { fetched.discard() }
        guard case .spooled(let spooled) = fetched else { return XCTFail("expected a spooled file, got \(fetched)") }
        let hasher = SHA256Hasher()
        hasher.update(try Data(contentsOf: spooled))
        XCTAssertEqual(hasher.finalize().hexString, Digest.sha256(data).hexString)
        let boundary = 8 << 20
        XCTAssertEqual(try store.get("big.fits", range: boundary - 100..<boundary + 100),
                       data.subdata(in: boundary - 100..<boundary + 100), "across a part boundary")
        print("multipart: 100 MB uploaded in \(String(format: "%.2f", uploadSeconds)) s "
              + "(\(String(format: "%.0f", 100 / uploadSeconds)) MB/s)")

        fetched.discard()
        XCTAssertFalse(FileManager.default.fileExists(atPath: spooled.path))
        if case .memory(let small) = try store.fetch("big.fits", spoolThreshold: size + 1) {
            XCTAssertEqual(small.count, size)
        } else {
            XCTFail("below the threshold the object comes into memory")
        }
    }

    func testInterruptedMultipartUploadIsAborted() throws {
        let store = try S3TestServer.makeStore(["sextant.s3.partSize": "5m"])
        defer { S3TestServer.empty(store) }
        struct Interrupted: Error {}

        // The listing this test relies on does see an open upload.
        let open = try store.perform(.init(method: "POST", key: "open", query: [("uploads", "")]), location: "open")
        let openID = try XCTUnwrap(S3XMLNode.parse(open.body)?.value("UploadId"))
        XCTAssertEqual(try store.pendingUploads().map(\.key), ["open"])
        try store.abortUpload("open", uploadID: openID)

        var partsRead = 0
        XCTAssertThrowsError(try store.multipartUpload("cut.fits", size: 12 << 20) { range in
            partsRead += 1
            if partsRead == 2 { throw Interrupted() }
            return testBytes(range.count)
        }) { error in XCTAssertTrue(error is Interrupted, "\(error)") }
        XCTAssertEqual(partsRead, 2)
        XCTAssertEqual(try store.pendingUploads().map(\.key), [], "the failed upload was aborted")
        XCTAssertNil(try store.head("cut.fits"), "no partial object appears")
    }
}
