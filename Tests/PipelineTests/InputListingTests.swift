import Foundation
@testable import Pipeline
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
        // A dry run counts a directory's images too (only an @list's lines are taken unchecked).
        XCTAssertEqual(try InputListing(dryRun: true).expand([dir.appendingPathComponent("a").path]).map(\.relativePath),
                       ["one.fits", "sub/three.fz", "sub/two.fits.gz"])
    }

    /// A directory of many subdirectories is walked in two halves at once: the same images, in
    /// key order, as one walk (top-level files, names that sort around the middle `name/`).
    func testAWalkInTwoHalvesListsEveryImageOnceInKeyOrder() throws {
        let dir = try TestSupport.makeTemporaryDirectory("inputs-halves")
        var paths = ["top.fits", "d2.fits", "d2-x/e.fits", "z.FITS", "d2/a.fits", "d2/b/c.fits.gz", "note.txt"]
        for index in 0..<5 { paths += ["d\(index)/f\(index).fits", "d\(index)/g.fz"] }
        let fm = FileManager.default
        for path in paths {
            let url = dir.appendingPathComponent(path)
            try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            fm.createFile(atPath: url.path, contents: Data("x".utf8))
        }
        let walked = try InputListing().expand([dir.path]).map(\.relativePath)
        let images = paths.filter(InputListing.isImageName)
        XCTAssertEqual(walked, images.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        XCTAssertEqual(Set(walked).count, images.count)
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

    /// Blanks, comments, repeats, missing files and bytes that are no file name: each gets a
    /// notice with its line, the rest of the list runs, and every kept line is an input.
    func testAListWithBadLinesGetsOneNoticePerLineAndLosesNothing() throws {
        let dir = try TestSupport.makeTemporaryDirectory("inputs-bad-list")
        let present = dir.appendingPathComponent("present.fits")
        FileManager.default.createFile(atPath: present.path, contents: Data("12345".utf8))
        let list = dir.appendingPathComponent("list.txt")
        var bytes = Data("\(present.path)\n\n   \n# a comment\n  \(dir.path)/gone.fits  \r\n\(present.path)\n".utf8)
        bytes.append(contentsOf: [0x2F, 0xFF, 0xFE, 0x2E, 0x66, 0x69, 0x74, 0x73, 0x0A])  // "/\xff\xfe.fits"
        bytes.append(Data("\(dir.path)/other.fits\n\(dir.path)/gone.fits".utf8))  // no final newline
        try bytes.write(to: list)
        let notices = Recorder()
        let listing = InputListing(notice: notices.append)
        let files = try listing.expand(["@" + list.path])
        XCTAssertEqual(files.map(\.uri), [present.path, dir.path + "/gone.fits", dir.path + "/other.fits"])
        XCTAssertEqual(files[0].size, 5)
        XCTAssertEqual(notices.lines, [
            "\(list.path):5: \(dir.path)/gone.fits: No such file or directory; it will be reported as failed",
            "\(list.path):8: \(dir.path)/other.fits: No such file or directory; it will be reported as failed",
            "\(list.path):6: \(present.path) is listed again (first on line 1); it runs once",
            "\(list.path):7: not a UTF-8 file name; line skipped",
            "\(list.path):9: \(dir.path)/gone.fits is listed again (first on line 5); it runs once",
            "\(list.path): 3 inputs; 2 repeated names kept once, 1 line not UTF-8 skipped, 2 blank lines skipped, 1 comment line skipped",
        ])
        // A dry run reads the same lines without touching the file system.
        let dry = try InputListing(dryRun: true).expand(["@" + list.path])
        XCTAssertEqual(dry.map(\.relativePath), ["present.fits", "gone.fits", "other.fits"])
    }

    /// Past 20 of a kind, lines are counted, not printed one by one.
    func testAMillionLineListCapsItsNotices() throws {
        let dir = try TestSupport.makeTemporaryDirectory("inputs-many-repeats")
        let list = dir.appendingPathComponent("list.txt")
        let text = (0..<1_000).map { "\(dir.path)/missing-\($0 % 500).fits" }.joined(separator: "\n")
        try text.write(to: list, atomically: true, encoding: .utf8)
        let notices = Recorder()
        let files = try InputListing(notice: notices.append).expand(["@" + list.path])
        XCTAssertEqual(files.count, 500)
        XCTAssertEqual(notices.lines.count, 20 + 1 + 20 + 1 + 1, notices.lines.joined(separator: "\n"))
        XCTAssertEqual(notices.lines.last, "\(list.path): 500 inputs; 500 repeated names kept once")
        XCTAssertTrue(notices.lines.contains("\(list.path): 500 listed files cannot be read; each will be reported as failed"))
    }

    /// One @list skips the table of names seen only when its lines cannot name a file twice:
    /// a `file://` line, a directory line and a plain line naming the same file still run it once.
    func testAListNamingAFileTwiceInOtherWordsRunsItOnce() throws {
        let dir = try TestSupport.makeTemporaryDirectory("inputs-same-file")
        let sub = dir.appendingPathComponent("sub")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        let file = sub.appendingPathComponent("a.fits")
        XCTAssertTrue(FileManager.default.createFile(atPath: file.path, contents: Data("1".utf8)))
        let list = dir.appendingPathComponent("list.txt")
        try "\(file.path)\nfile://\(file.path)\n".write(to: list, atomically: true, encoding: .utf8)
        XCTAssertEqual(try InputListing().expand(["@" + list.path]).map(\.uri), [file.path])
        try "\(sub.path)\n\(file.path)\n".write(to: list, atomically: true, encoding: .utf8)
        XCTAssertEqual(try InputListing().expand(["@" + list.path]).map(\.uri), [file.path])
        for (location, scheme) in [("s3://b/k.fits", true), ("a:://x", true), ("/a/b://", true), ("/a:/b.fits", false),
                                   ("/a/b.fits", false), (":/", false)] {
            XCTAssertEqual(InputListing.hasScheme(location), scheme, location)
        }
        XCTAssertEqual(InputFile.collisionKey(of: "D1/F.FITS.GZ"), "d1/f")
        XCTAssertEqual(InputFile.collisionKey(of: "d1/f.fits"), "d1/f")
        XCTAssertEqual(InputFile.collisionKey(of: "Ünï/x.fz"), "ünï/x")
    }

    func testLastPathComponentMatchesFoundation() {
        for path in ["/a/b.fits", "b.fits", "/a/b/", "a//b.fits//", "/", "", "s3://bucket/x/y.fits.gz", "ä/ö.fits"] {
            XCTAssertEqual(InputListing.lastComponent(of: path), (path as NSString).lastPathComponent, path)
        }
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

/// Collects notices from any thread.
final class Recorder: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    var lines: [String] { lock.lock(); defer { lock.unlock() }; return stored }
    func append(_ line: String) { lock.lock(); stored.append(line); lock.unlock() }
}
