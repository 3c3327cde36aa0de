import Foundation
@testable import Pipeline
import Storage
import XCTest

final class StoreCacheTests: XCTestCase {
    /// A slow store construction (an instance-metadata call) holds up neither other stores nor
    /// a second request for itself, which waits for the one being made instead of making another.
    func testMakingAStoreHappensOutsideTheLockAndOnce() throws {
        let release = DispatchSemaphore(value: 0)
        let counts = Counts()
        let root = FileManager.default.temporaryDirectory.path
        let cache = StoreCache { location, _ in
            counts.add(location)
            if location.hasPrefix("s3://slow") { release.wait() }
            return LocalStore(root: root)
        }
        let slowDone = DispatchGroup()
        for _ in 0..<2 {
            DispatchQueue.global().async(group: slowDone) { _ = try? cache.store(for: "s3://slow/a", settings: [:]) }
        }
        Thread.sleep(forTimeInterval: 0.2)
        let started = Date()
        _ = try cache.store(for: "/tmp/fast", settings: [:])
        XCTAssertLessThan(Date().timeIntervalSince(started), 1, "another store did not wait for the slow one")
        release.signal()
        XCTAssertEqual(slowDone.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(counts.value["s3://slow/a"], 1, "the second request waited for the first store")
        _ = try cache.store(for: "/tmp/fast", settings: [:])
        XCTAssertEqual(counts.value["/tmp/fast"], 1, "cached")
    }

    func testAFailedConstructionIsNotCachedAndWakesTheWaiters() {
        let cache = StoreCache { _, _ in throw StorageError(.transport, location: "s3://x", message: "no answer") }
        XCTAssertThrowsError(try cache.store(for: "s3://x/y", settings: [:]))
        XCTAssertThrowsError(try cache.store(for: "s3://x/y", settings: [:]))
    }
}

private final class Counts: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [String: Int] = [:]
    func add(_ key: String) { lock.withLock { counts[key, default: 0] += 1 } }
    var value: [String: Int] { lock.withLock { counts } }
}
