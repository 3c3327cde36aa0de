import Foundation
import XCTest
import TestSupport
@testable import Storage

/// Throughput figures, printed; run with SEXTANT_STORAGE_BENCH=1 (skipped otherwise, to keep CI short).
final class StorageBenchmarkTests: XCTestCase {
    func testSmallObjectRatesAndMultipartThroughput() throws {
        guard ProcessInfo.processInfo.environment["SEXTANT_STORAGE_BENCH"] == "1" else {
            throw XCTSkip("set SEXTANT_STORAGE_BENCH=1 to measure")
        }
        let store = try S3TestServer.makeStore()
        defer { S3TestServer.empty(store) }
        let object = testBytes(10_240, seed: 5)
        let count = 500
        for threads in [1, 4] {
            let prefix = "small-\(threads)/"
            let putRate = rate(count, threads: threads) { try store.put(prefix + "\($0)", data: object) }
            let getRate = rate(count, threads: threads) { _ = try store.get(prefix + "\($0)") }
            print("bench: 10 KB objects, \(threads) thread(s): \(Int(putRate)) PUT/s, \(Int(getRate)) GET/s")
        }
        let local = LocalStore(root: try TestSupport.makeTemporaryDirectory("bench-local").path)
        defer { try? FileManager.default.removeItem(atPath: local.root) }
        let localPut = rate(count, threads: 1) { try local.put("o/\($0)", data: object) }
        let localGet = rate(count, threads: 1) { _ = try local.get("o/\($0)") }
        print("bench: LocalStore 10 KB objects, 1 thread: \(Int(localPut)) PUT/s (fsync'd), \(Int(localGet)) GET/s")

        let big = testBytes(100 << 20, seed: 6)
        for concurrency in ["1", "4"] {
            let parts = try S3TestServer.makeStore(["sextant.s3.partSize": "16m", "sextant.s3.uploadConcurrency": concurrency])
            defer { S3TestServer.empty(parts) }
            var start = Date()
            try parts.put("big", data: big)
            let up = 100 / Date().timeIntervalSince(start)
            start = Date()
            let back = try parts.get("big")
            let down = 100 / Date().timeIntervalSince(start)
            XCTAssertEqual(back.count, big.count)
            print("bench: 100 MB multipart (16 MB parts, \(concurrency) in flight): \(Int(up)) MB/s up, \(Int(down)) MB/s single GET down")
        }
    }

    private func rate(_ count: Int, threads: Int, _ body: @escaping (Int) throws -> Void) -> Double {
        let start = Date()
        let next = NSLock()
        var index = 0
        let group = DispatchGroup()
        for _ in 0..<threads {
            group.enter()
            Thread {
                defer { group.leave() }
                while true {
                    let i: Int = next.withLock { index += 1; return index - 1 }
                    if i >= count { return }
                    do { try body(i) } catch { XCTFail("\(error)") }
                }
            }.start()
        }
        group.wait()
        return Double(count) / Date().timeIntervalSince(start)
    }
}
