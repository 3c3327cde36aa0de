import Foundation
import TestSupport
import XCTest
@testable import Storage

/// `list(prefix:startAfter:maxKeys:)`: what a stream's watcher lists from its cursor, with mtimes.
final class StartAfterListingTests: XCTestCase {
    private let keys = ["a.fits", "b/c.fits", "b/d.fits", "e.fits", "f.fits"]

    private func check(_ store: ObjectStore, file: StaticString = #filePath, line: UInt = #line) throws {
        for key in keys { try store.put(key, data: Data(key.utf8)) }
        var after: [String] = []
        try store.forEachObject(startAfter: "b/c.fits", pageSize: 2) { after.append($0.key) }
        XCTAssertEqual(after, ["b/d.fits", "e.fits", "f.fits"], "strictly after, across pages", file: file, line: line)
        after = []
        try store.forEachObject(startAfter: "b/", pageSize: 1) { after.append($0.key) }
        XCTAssertEqual(after, ["b/c.fits", "b/d.fits", "e.fits", "f.fits"], file: file, line: line)
        after = []
        try store.forEachObject(startAfter: "f.fits") { after.append($0.key) }
        XCTAssertEqual(after, [], file: file, line: line)
        after = []
        try store.forEachObject(startAfter: nil) { after.append($0.key) }
        XCTAssertEqual(after, keys, file: file, line: line)
        let listed = try store.list(prefix: "", startAfter: "a.fits", maxKeys: 10).objects
        let modified = try XCTUnwrap(listed.first?.modified, "listings carry the mtime or LastModified", file: file, line: line)
        XCTAssertLessThan(abs(modified.timeIntervalSinceNow), 120, file: file, line: line)
    }

    func testLocalStoreListsAfterAKey() throws {
        try check(LocalStore(root: try TestSupport.makeTemporaryDirectory("start-after").path))
    }

    func testS3StoreListsAfterAKey() throws {
        let store = try S3TestServer.makeStore()
        defer { S3TestServer.empty(store) }
        try check(store)
    }

    func testListingDatesParseWithAndWithoutMilliseconds() {
        XCTAssertEqual(S3Store.parseListingDate("2026-12-01T19:00:00.250Z")?.timeIntervalSince1970, 1_796_151_600.25)
        XCTAssertEqual(S3Store.parseListingDate("2026-12-01T19:00:00Z")?.timeIntervalSince1970, 1_796_151_600)
        XCTAssertNil(S3Store.parseListingDate("yesterday"))
    }
}
