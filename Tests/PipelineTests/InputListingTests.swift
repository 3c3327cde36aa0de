import Foundation
import Pipeline
import TestSupport
import XCTest

final class InputListingTests: XCTestCase {
    func testDirectoriesGlobsListsAndDatasetNames() throws {
        let dir = try TestSupport.makeTemporaryDirectory("inputs")
        let fm = FileManager.default
        for path in ["a/one.fits", "a/sub/two.fits.gz", "a/sub/three.fz", "a/skip.txt", "b/four.fit", "b/five.fits"] {
            let url = dir.appendingPathComponent(path)
            try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            fm.createFile(atPath: url.path, contents: Data("x".utf8))
        }
        let listing = InputListing(resolveDataset: { $0 == "mydata" ? dir.appendingPathComponent("b").path : nil })

        let walked = try listing.expand([dir.appendingPathComponent("a").path])
        XCTAssertEqual(walked.map(\.relativePath), ["one.fits", "sub/three.fz", "sub/two.fits.gz"])
        XCTAssertEqual(walked[0].size, 1)

        let globbed = try listing.expand([dir.path + "/b/*.fit*"])
        XCTAssertEqual(globbed.map(\.relativePath).sorted(), ["five.fits", "four.fit"])

        let list = dir.appendingPathComponent("list.txt")
        try "# comment\n\(dir.path)/a/one.fits\n\n\(dir.path)/b/gone.fits\n".write(to: list, atomically: true, encoding: .utf8)
        let listed = try listing.expand(["@" + list.path])
        XCTAssertEqual(listed.map(\.relativePath), ["one.fits", "gone.fits"], "a missing listed file stays, to be reported")

        XCTAssertEqual(try listing.expand(["mydata"]).map(\.relativePath), ["five.fits", "four.fit"])
    }

    func testClearErrorsForMissingInputsAndCatalogNameClashes() throws {
        let dir = try TestSupport.makeTemporaryDirectory("inputs-errors")
        let fm = FileManager.default
        for path in ["x/same.fits", "y/same.fits"] {
            let url = dir.appendingPathComponent(path)
            try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            fm.createFile(atPath: url.path, contents: Data("x".utf8))
        }
        let listing = InputListing()
        XCTAssertThrowsError(try listing.expand([dir.path + "/nothing-here.fits"])) { error in
            XCTAssertEqual("\(error)", "\(dir.path)/nothing-here.fits: no such file or directory")
        }
        XCTAssertThrowsError(try listing.expand([dir.path + "/x/same.fits", dir.path + "/y/same.fits"])) { error in
            XCTAssertTrue("\(error)".contains("would both write the catalog same.cat.*"), "\(error)")
        }
        // The same file twice is one input.
        XCTAssertEqual(try listing.expand([dir.path + "/x/same.fits", dir.path + "/x/same.fits"]).count, 1)
    }

    func testDryRunPlansAMillionNames() throws {
        let dir = try TestSupport.makeTemporaryDirectory("inputs-million")
        let list = dir.appendingPathComponent("million.txt")
        var text = ""
        text.reserveCapacity(40_000_000)
        for i in 0..<1_000_000 { text += "/survey/run\(i / 1000)/frame-\(i).fits\n" }
        try text.write(to: list, atomically: true, encoding: .utf8)
        let files = try InputListing(dryRun: true).expand(["@" + list.path])
        let spec = JobSpec(inputs: files, parameters: ExtractParameters(output: dir.path))
        let plan = try spec.makePlan()
        XCTAssertEqual(plan.count, 1_000_000)
        // Its speed is a benchmark figure (scripts/bench), not a timed unit test: a loaded CI machine would make it flaky.
    }

    func testDatasetsFileParses() throws {
        let catalog = try DatasetCatalog(contentsOf: TestSupport.repoRoot.appendingPathComponent("datasets.txt").path)
        let demo = try catalog.dataset(named: "demo")
        guard case .synthetic(let count, let recipe, let dtype) = demo.source else { return XCTFail("demo is synthetic") }
        XCTAssertEqual(count, 8)
        XCTAssertEqual(recipe.width, 2048)
        XCTAssertEqual(recipe.height, 1489)
        XCTAssertEqual(dtype, .float32)
        XCTAssertNotNil(try? catalog.dataset(named: "kira-1tb"))
        XCTAssertThrowsError(try DatasetCatalog(parsing: "bad synthetic width=3\n")) { error in
            XCTAssertTrue("\(error)".contains("needs count=N"), "\(error)")
        }
    }
}
