import Foundation
import Storage
import TestSupport
import XCTest

/// `sextant merge` with its catalogs, its tiles and its shuffle in S3 (SeaweedFS, started by
/// scripts/test): map outputs through `sextant.shuffle.location=s3://…` (ObjectStoreShuffleBlobs),
/// the same tiles as on local files, and no map output left behind.
final class SkyMergeS3Tests: XCTestCase {
    func testAMergeOfCatalogsInS3ShufflesThroughS3AndWritesTheSameTiles() throws {
        let server = try S3JobTests.sharedServer()
        let store = try server.store()
        let prefix = "sky-\(UUID().uuidString.prefix(8))"
        let catalogs = SkyMergeEndToEndTests.field.catalogs
        for name in try FileManager.default.contentsOfDirectory(atPath: catalogs.path)
        where name.hasSuffix(".cat.fits") || name == "_manifest.jsonl" {
            try store.put("\(prefix)/catalogs/\(name)", contentsOf: catalogs.appendingPathComponent(name))
        }
        let local = try TestSupport.makeTemporaryDirectory("e2e-sky-s3").appendingPathComponent("sky")
        let here = try Sextant.run(["merge", catalogs.path, "--out", local.path, "--order", "12"])
        XCTAssertEqual(here.status, 0, here.stderr)

        let merged = try Sextant.run(["merge", "s3://\(server.bucket)/\(prefix)/catalogs", "--order", "12",
                                      "--out", "s3://\(server.bucket)/\(prefix)/sky", "--master", "local[2]",
                                      "--conf", "sextant.shuffle.location=s3://\(server.bucket)/\(prefix)/shuffle"]
                                     + server.conf, environment: server.environment)
        XCTAssertEqual(merged.status, 0, merged.stdout + merged.stderr)
        let expected = try SkyMergeEndToEndTests.products(local)
        XCTAssertGreaterThan(expected.count, 20)
        for (name, data) in expected {
            XCTAssertEqual(try store.get("\(prefix)/sky/\(name)"), data, name)
        }
        XCTAssertNotNil(try store.head("\(prefix)/sky/_SUCCESS"))
        let left = try store.listAll(prefix: "\(prefix)/shuffle/").filter { $0.key.hasSuffix(".data") }
        XCTAssertEqual(left.map(\.key), [], "map outputs are removed when the merge ends")
    }
}
