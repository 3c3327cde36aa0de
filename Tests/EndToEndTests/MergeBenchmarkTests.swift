import Foundation
import TestSupport
import XCTest

/// scripts/bench/merge in its quick mode: extraction and the merge of the same frames are both
/// timed, and the merged catalog passes the script's own independent check.
final class MergeBenchmarkTests: XCTestCase {
    func testQuickMergeBenchmarkTimesBothAndItsCatalogIsRight() throws {
        let out = try TestSupport.makeTemporaryDirectory("bench-merge")
        defer { try? FileManager.default.removeItem(at: out) }
        let script = TestSupport.repoRoot.appendingPathComponent("scripts/bench/merge").path
        let json = out.appendingPathComponent("row.json")
        let run = try TestSupport.run(script, ["--quick", "--out", out.path, "--sextant", Sextant.binary, "--json", json.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        let row = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        XCTAssertGreaterThan(row["extraction_s"] as? Double ?? 0, 0)
        XCTAssertGreaterThan(row["merge_job_s"] as? Double ?? 0, 0)
        // Binary values: a detection's position, flux and frame take at least 24 bytes, and far less than JSON's ~150.
        let bytes = row["shuffle_bytes_per_detection"] as? Double ?? 0
        XCTAssertGreaterThan(bytes, 24)
        XCTAssertLessThan(bytes, 100)
        let reference = try XCTUnwrap(row["reference"] as? [String: Int])
        XCTAssertEqual(reference["missing"], 0)
        XCTAssertEqual(reference["extra"], 0)
    }
}
