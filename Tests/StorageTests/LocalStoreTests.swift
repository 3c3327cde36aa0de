import Foundation
import XCTest
import TestSupport
@testable import Storage

final class LocalStoreTests: XCTestCase {
    var root: URL!

    override func setUpWithError() throws {
        root = try TestSupport.makeTemporaryDirectory("local-store")
    }

    override func tearDownWithError() throws {
        _ = chmod(root.path, 0o755)
        try? FileManager.default.removeItem(at: root)
    }

    func testPutGetHeadRangeListAndDelete() throws {
        let store = try XCTUnwrap(StoreFactory.makeStore(for: "file://" + root.path) as? LocalStore)
        let data = testBytes(5_000, seed: 3)
        XCTAssertNil(try store.head("images/a.fits"))
        try store.put("images/a.fits", data: data)
        XCTAssertEqual(try Data(contentsOf: root.appendingPathComponent("images/a.fits")), data, "the file holds the bytes")
        XCTAssertEqual(try store.head("images/a.fits")?.size, 5_000)
        XCTAssertEqual(try store.get("images/a.fits"), data)
        XCTAssertEqual(try store.get("images/a.fits", range: 1_000..<1_010), data.subdata(in: 1_000..<1_010))
        XCTAssertEqual(try store.get("images/a.fits", range: 4_990..<9_000), data.subdata(in: 4_990..<5_000))
        XCTAssertThrowsError(try store.get("images/a.fits", range: 5_000..<5_001)) {
            XCTAssertEqual(($0 as? StorageError)?.kind, .invalidRange)
        }
        XCTAssertThrowsError(try store.get("images/missing.fits")) { error in
            XCTAssertEqual((error as? StorageError)?.kind, .notFound)
            XCTAssertEqual("\(error)", "\(self.root.path)/images/missing.fits: open for reading: No such file or directory")
        }

        for key in ["images/b.fits", "images/sub/c.fits", "images.txt", "catalogs/a.cat"] {
            try store.put(key, data: Data(key.utf8))
        }
        XCTAssertEqual(try store.listAll().map(\.key),
                       ["catalogs/a.cat", "images.txt", "images/a.fits", "images/b.fits", "images/sub/c.fits"])
        XCTAssertEqual(try store.listAll(prefix: "images/").map(\.key), ["images/a.fits", "images/b.fits", "images/sub/c.fits"])
        XCTAssertEqual(try store.listAll(prefix: "images/s").map(\.size), ["images/sub/c.fits".utf8.count])
        let first = try store.list(prefix: "", maxKeys: 2, continuationToken: nil)
        XCTAssertEqual(first.objects.map(\.key), ["catalogs/a.cat", "images.txt"])
        let second = try store.list(prefix: "", maxKeys: 2, continuationToken: first.continuationToken)
        XCTAssertEqual(second.objects.map(\.key), ["images/a.fits", "images/b.fits"])
        let third = try store.list(prefix: "", maxKeys: 2, continuationToken: second.continuationToken)
        XCTAssertEqual(third.objects.map(\.key), ["images/sub/c.fits"])
        XCTAssertNil(third.continuationToken)
        XCTAssertEqual(try store.listAll(prefix: "nothing/"), [])

        try store.delete("images/a.fits")
        XCTAssertNil(try store.head("images/a.fits"))
        XCTAssertNoThrow(try store.delete("images/a.fits"))
        for bad in ["", "/etc/passwd", "../x", "a/./b", "a//b"] {
            XCTAssertThrowsError(try store.put(bad, data: data), "key '\(bad)'") {
                XCTAssertEqual(($0 as? StorageError)?.kind, .invalidArgument)
            }
        }
        try store.checkWritable()
        XCTAssertEqual(try store.listAll().count, 4, "the write probe leaves nothing behind")
    }

    /// Many objects at once (a sky merge task's tiles): each in place with its bytes, over many
    /// directories, no temporary file left; one that cannot be written fails the call and
    /// leaves no temporary file either.
    func testPutAllWritesEveryObjectAndLeavesNoTemporaries() throws {
        let store = LocalStore(root: root.path)
        let objects = (0..<40).map { (key: "Norder=9/Dir=\($0 % 3)/Npix=\($0).fits", data: testBytes(100 + $0, seed: UInt64($0))) }
        try store.putAll(objects)
        for object in objects {
            XCTAssertEqual(try store.get(object.key), object.data, object.key)
        }
        XCTAssertEqual(try store.listAll().count, 40)
        try store.putAll([])
        let tree = FileManager.default.enumerator(atPath: root.path)?.allObjects.compactMap { $0 as? String } ?? []
        XCTAssertFalse(tree.contains { $0.contains(LocalStore.temporaryMarker) }, "\(tree)")

        try Data("a file".utf8).write(to: root.appendingPathComponent("blocker"))
        XCTAssertThrowsError(try store.putAll([("ok/one.fits", Data([1])), ("blocker/two.fits", Data([2]))]))
        let after = FileManager.default.enumerator(atPath: root.path)?.allObjects.compactMap { $0 as? String } ?? []
        XCTAssertFalse(after.contains { $0.contains(LocalStore.temporaryMarker) }, "\(after)")
        XCTAssertNil(try store.head("ok/one.fits"), "nothing renamed into place when the batch fails before its flush")
    }

    /// `sextant.storage.fsync false` (benchmarks, scratch output) skips the flushes, not the atomic rename.
    func testFsyncCanBeTurnedOffAndPutsStayAtomic() throws {
        let durable = try XCTUnwrap(StoreFactory.makeStore(for: root.path) as? LocalStore)
        XCTAssertTrue(durable.isDurable, "flushed unless asked otherwise")
        let store = try XCTUnwrap(StoreFactory.makeStore(for: root.path, settings: ["sextant.storage.fsync": "false"]) as? LocalStore)
        XCTAssertFalse(store.isDurable)
        try store.put("a/b.cat", data: Data("catalog".utf8))
        XCTAssertEqual(try store.get("a/b.cat"), Data("catalog".utf8))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("a").path), ["b.cat"],
                       "no temporary file left beside it")
        XCTAssertThrowsError(try StoreFactory.makeStore(for: root.path, settings: ["sextant.storage.fsync": "sometimes"]))
    }

    /// A put from a FIFO, paused halfway: the final name must not exist yet, the partial bytes must
    /// sit in a temporary file in the same directory, and afterwards only the whole file remains.
    func testPutIsAtomicThroughATemporaryFileInTheSameDirectory() throws {
        let store = LocalStore(root: root.path)
        let fifo = root.appendingPathComponent("source.fifo")
        XCTAssertEqual(mkfifo(fifo.path, 0o600), 0)
        let data = testBytes(3 << 20, seed: 9)
        let finished = expectation(description: "put finished")
        let putError = LockedBox<Error?>(nil)
        Thread {
            do { try store.put("out/catalog.fits", contentsOf: fifo) } catch { putError.value = error }
            finished.fulfill()
        }.start()

        let writer = try FileHandle(forWritingTo: fifo)
        try writer.write(contentsOf: data.prefix(1 << 20))
        let outDir = root.appendingPathComponent("out")
        var temporary: [String] = []
        for _ in 0..<200 {  // wait until the first bytes have landed
            temporary = (try? FileManager.default.contentsOfDirectory(atPath: outDir.path)) ?? []
            if let name = temporary.first,
               let size = try? FileManager.default.attributesOfItem(atPath: outDir.appendingPathComponent(name).path)[.size] as? Int,
               size > 0 { break }
            usleep(10_000)
        }
        XCTAssertEqual(temporary.count, 1)
        XCTAssertTrue(temporary.first?.hasPrefix(".catalog.fits.sextant-tmp-") ?? false, "\(temporary)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: outDir.appendingPathComponent("catalog.fits").path),
                       "nothing under the final name while writing")
        XCTAssertEqual(try store.listAll(), [], "temporary files are not listed")

        try writer.write(contentsOf: data.dropFirst(1 << 20))
        try writer.close()
        wait(for: [finished], timeout: 30)
        XCTAssertNil(putError.value)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outDir.path), ["catalog.fits"])
        XCTAssertEqual(try store.get("out/catalog.fits"), data)
    }

    /// Keys are ordered by their UTF-8 bytes, as S3 orders them, and paging follows that order.
    func testListingPagesInByteOrder() throws {
        let store = LocalStore(root: root.path)
        for key in ["z.fits", "ä.fits", "b.fits", "B.fits"] { try store.put(key, data: Data(key.utf8)) }
        XCTAssertEqual(try store.listAll(pageSize: 1).map(\.key), ["B.fits", "b.fits", "z.fits", "ä.fits"])
    }

    /// A directory's keys sort as if its name ended in "/": "a-b" < "a/x" < "a0", as S3 orders them.
    /// Every page size, with and without the cached cursor, gives the same keys in the same order.
    func testListingWalksDirectoriesInKeyOrderAndResumesFromAnyToken() throws {
        let store = LocalStore(root: root.path)
        let keys = ["a-b.fits", "a/x.fits", "a/y/z.fits", "a0.fits", "b/c/d/e.fits", "b/c.fits", "ba.fits", "~.fits"]
        for key in keys.shuffled() { try store.put(key, data: Data(key.utf8)) }
        let sorted = keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        XCTAssertEqual(try store.listAll().map(\.key), sorted)
        for pageSize in 1...4 {
            XCTAssertEqual(try store.listAll(pageSize: pageSize).map(\.key), sorted, "page size \(pageSize)")
        }
        // A fresh store has no cursor to continue: it seeks to the token.
        for (position, token) in sorted.enumerated() {
            let page = try LocalStore(root: root.path).list(prefix: "", maxKeys: 100, continuationToken: token)
            XCTAssertEqual(page.objects.map(\.key), Array(sorted.dropFirst(position + 1)), "after \(token)")
            XCTAssertNil(page.continuationToken)
        }
        XCTAssertEqual(try store.listAll(prefix: "a").map(\.key), ["a-b.fits", "a/x.fits", "a/y/z.fits", "a0.fits"])
        XCTAssertEqual(try store.listAll(prefix: "a/", pageSize: 1).map(\.key), ["a/x.fits", "a/y/z.fits"])
        XCTAssertEqual(try store.listAll(prefix: "b/c").map(\.key), ["b/c.fits", "b/c/d/e.fits"])
        XCTAssertEqual(try store.listAll(prefix: "b/c/").map(\.size), ["b/c/d/e.fits".utf8.count])
        XCTAssertEqual(try store.listAll(prefix: "nothing/here"), [])
        // A file that appears behind the cursor while paging is not listed, and nothing twice.
        let first = try store.list(prefix: "", maxKeys: 3, continuationToken: nil)
        try store.put("a/a.fits", data: Data())
        var rest: [String] = []
        var token = first.continuationToken
        while let next = token {
            let page = try store.list(prefix: "", maxKeys: 3, continuationToken: next)
            rest += page.objects.map(\.key)
            token = page.continuationToken
        }
        XCTAssertEqual(first.objects.map(\.key) + rest, sorted)
    }

    /// A symbolic link to a file lists as that file; one back to an ancestor directory is not followed.
    func testListingFollowsLinksButNotLoops() throws {
        let store = LocalStore(root: root.path)
        try store.put("a/x.fits", data: Data("12".utf8))
        XCTAssertEqual(symlink(root.path + "/a", root.path + "/a/loop"), 0)
        XCTAssertEqual(symlink(root.path + "/a/x.fits", root.path + "/y.fits"), 0)
        XCTAssertEqual(try store.listAll().map(\.key), ["a/x.fits", "y.fits"])
        XCTAssertEqual(try store.listAll().map(\.size), [2, 2])
    }

    /// What a writer killed between create and rename leaves is removed; committed objects stay.
    func testAbandonedTemporaryFilesAreRemovedAndObjectsKept() throws {
        let store = LocalStore(root: root.path)
        try store.put("a/x.cat.fits", data: Data("x".utf8))
        try store.put("y.cat.fits", data: Data("y".utf8))
        for path in ["a/.x.cat.fits.sextant-tmp-1234abcd", ".z.cat.fits.sextant-tmp-00000000"] {
            try Data("half".utf8).write(to: root.appendingPathComponent(path))
        }
        XCTAssertEqual(try store.removeAbandonedWrites(), 2)
        XCTAssertEqual(try store.get("a/x.cat.fits"), Data("x".utf8))
        XCTAssertEqual(try store.get("y.cat.fits"), Data("y".utf8))
        let left = FileManager.default.enumerator(atPath: root.path)?.allObjects as? [String] ?? []
        XCTAssertEqual(left.filter { $0.contains(".sextant-tmp-") }, [])
        XCTAssertEqual(try store.removeAbandonedWrites(), 0)
    }

    /// A finished temporary file is renamed into place (same file system): the object holds its
    /// bytes, the file is gone, nothing temporary is left; the default (other stores) copies, then removes it.
    func testPutMovingFromRenamesTheFileIntoPlace() throws {
        let store = LocalStore(root: root.path)
        let bytes = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 * 7) })
        let file = root.appendingPathComponent("staged.tmp")
        try bytes.write(to: file)
        try store.put("deep/er/_manifest.jsonl", movingFrom: file)
        XCTAssertEqual(try store.get("deep/er/_manifest.jsonl"), bytes)
        XCTAssertFalse(FileManager.default.fileExists(atPath: file.path), "moved, not copied")
        try Data("older".utf8).write(to: file)
        try store.put("deep/er/_manifest.jsonl", movingFrom: file)
        XCTAssertEqual(try store.get("deep/er/_manifest.jsonl"), Data("older".utf8), "replaces what was there")
        let left = FileManager.default.enumerator(atPath: root.path)?.allObjects as? [String] ?? []
        XCTAssertEqual(left.filter { $0.contains(".sextant-tmp-") }, [])

        let copied = CopyingStore(base: store)
        try bytes.write(to: file)
        try copied.put("copied.jsonl", movingFrom: file)
        XCTAssertEqual(try store.get("copied.jsonl"), bytes)
        XCTAssertFalse(FileManager.default.fileExists(atPath: file.path))
        XCTAssertThrowsError(try store.put("x.jsonl", movingFrom: root.appendingPathComponent("missing")))
    }

    func testFailedPutLeavesNothing() throws {
        let store = LocalStore(root: root.path)
        XCTAssertThrowsError(try store.put("x.fits", contentsOf: root.appendingPathComponent("missing"))) { error in
            XCTAssertEqual((error as? StorageError)?.kind, .notFound, "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root.path), [])
    }

    func testUnwritableDirectoryIsReported() throws {
        // Root ignores permission bits, so as root use sysfs, which refuses new files to everyone.
        let directory: String
        if geteuid() == 0 {
            directory = "/sys"
        } else {
            directory = root.path
            XCTAssertEqual(chmod(directory, 0o555), 0)
        }
        let store = LocalStore(root: directory)
        XCTAssertThrowsError(try store.checkWritable()) { error in
            XCTAssertEqual((error as? StorageError)?.kind, .accessDenied)
            XCTAssertTrue("\(error)".hasPrefix("\(directory): not writable: create temporary file in \(directory): Permission denied"),
                          "\(error)")
        }
        let underAFile = LocalStore(root: "/etc/hostname/catalogs")
        XCTAssertThrowsError(try underAFile.put("a.cat", data: Data("x".utf8))) { error in
            XCTAssertTrue("\(error)".hasPrefix("/etc/hostname/catalogs"), "\(error)")
        }
    }

    func testFetchHandsOverLargeLocalFilesInPlace() throws {
        let store = LocalStore(root: root.path)
        try store.put("big.fits", data: testBytes(4096))
        let fetched = try store.fetch("big.fits", spoolThreshold: 1024)
        XCTAssertEqual(fetched.fileURL?.path, root.appendingPathComponent("big.fits").path)
        fetched.discard()
        XCTAssertNotNil(try store.head("big.fits"), "discard leaves the store's own file alone")
        guard case .memory(let data) = try store.fetch("big.fits", spoolThreshold: 1 << 20) else {
            return XCTFail("small objects come into memory")
        }
        XCTAssertEqual(data, testBytes(4096))
        XCTAssertThrowsError(try store.fetch("nope.fits", spoolThreshold: 1)) {
            XCTAssertEqual(($0 as? StorageError)?.kind, .notFound)
        }
    }
}

/// A store that only forwards the protocol's requirements it must (the default `put(_:movingFrom:)`).
private final class CopyingStore: ObjectStore, @unchecked Sendable {
    let base: LocalStore
    init(base: LocalStore) { self.base = base }
    var location: StoreLocation { base.location }
    func list(prefix: String, maxKeys: Int?, continuationToken: String?) throws -> ObjectListing {
        try base.list(prefix: prefix, maxKeys: maxKeys, continuationToken: continuationToken)
    }
    func head(_ key: String) throws -> ObjectMetadata? { try base.head(key) }
    func get(_ key: String, range: Range<Int>?) throws -> Data { try base.get(key, range: range) }
    func put(_ key: String, data: Data) throws { try base.put(key, data: data) }
    func put(_ key: String, contentsOf file: URL) throws { try base.put(key, contentsOf: file) }
    func delete(_ key: String) throws { try base.delete(key) }
}
