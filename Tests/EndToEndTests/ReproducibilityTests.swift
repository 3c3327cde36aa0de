import Foundation
import TestSupport
import XCTest

/// Issue 21's proof with the binary as a user runs it: a job verifies; one changed byte makes
/// verify name that input; `--reproduce` writes byte-identical catalogs; and catalogs are the
/// same bytes whichever way the job ran.
final class ReproducibilityTests: XCTestCase {
    private var cluster: ClusterHarness?

    override func tearDown() {
        cluster?.shutDown()
        super.tearDown()
    }

    private func catalogs(in directory: URL) throws -> [String: Data] {
        var found: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where name.hasSuffix(".cat.fits") {
            found[name] = try Data(contentsOf: directory.appendingPathComponent(name))
        }
        return found
    }

    private func flipByte(_ file: URL, at offset: Int) throws {
        var bytes = try Data(contentsOf: file)
        bytes[offset] ^= 0x01
        try bytes.write(to: file)
    }

    func testVerifyPassesThenNamesTheChangedInputAndReproduceIsByteIdentical() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-verify")
        let frames = dir.appendingPathComponent("frames")
        try Sextant.generate("small", count: 4, into: frames)
        let out = dir.appendingPathComponent("out")
        XCTAssertEqual(try Sextant.run(["run", frames.path, "--out", out.path, "--master", "local[2]"]).status, 0)

        let clean = try Sextant.run(["verify", out.path])
        XCTAssertEqual(clean.status, 0, clean.stdout + clean.stderr)
        XCTAssertTrue(clean.stdout.contains("4 of 4 inputs checked: every catalog is byte-identical"), clean.stdout)

        let changed = frames.appendingPathComponent("small-000001.fits")
        let original = try Data(contentsOf: changed)
        try flipByte(changed, at: original.count - 4000)
        let dirty = try Sextant.run(["verify", out.path])
        XCTAssertEqual(dirty.status, 1, dirty.stdout + dirty.stderr)
        let lines = dirty.stdout.split(separator: "\n").filter { !$0.hasPrefix("verify:") }
        XCTAssertFalse(lines.isEmpty)
        XCTAssertTrue(lines.allSatisfy { $0.hasPrefix(changed.path + ": ") }, "only the changed input is named: \(dirty.stdout)")
        XCTAssertTrue(dirty.stdout.contains("input changed: its bytes changed"), dirty.stdout)

        let manifest = out.appendingPathComponent("_manifest.jsonl").path
        let refused = try Sextant.run(["run", "--reproduce", manifest, "--out", dir.appendingPathComponent("refused").path])
        XCTAssertEqual(refused.status, 2, refused.stdout + refused.stderr)
        XCTAssertTrue(refused.stderr.contains("cannot reproduce: 1 inputs changed") && refused.stderr.contains(changed.path),
                      refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("refused/_manifest.jsonl").path),
                       "nothing ran")

        try original.write(to: changed)
        let again = dir.appendingPathComponent("again")
        let reproduced = try Sextant.run(["run", "--reproduce", manifest, "--out", again.path, "--master", "local[1]"])
        XCTAssertEqual(reproduced.status, 0, reproduced.stdout + reproduced.stderr)
        XCTAssertTrue(reproduced.stdout.contains("all 4 catalogs are byte-identical"), reproduced.stdout)
        let first = try catalogs(in: out)
        XCTAssertEqual(first.count, 4)
        XCTAssertEqual(try catalogs(in: again), first)
    }

    func testCatalogsAreByteIdenticalInLocalOneLocalTwoWithSpeculationInAClusterAndAfterARecompute() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-determinism")
        let frames = dir.appendingPathComponent("frames")
        try Sextant.generate("small", count: 3, into: frames)
        // One SDSS-sized frame, first in input order: it runs long after the small ones are done,
        // so a speculative copy of it races the original.
        try Sextant.generate("sanity", count: 1, into: frames)
        func run(_ name: String, _ extra: [String]) throws -> URL {
            let out = dir.appendingPathComponent(name)
            let result = try Sextant.run(["run", frames.path, "--out", out.path] + extra)
            XCTAssertEqual(result.status, 0, "\(name): " + result.stdout + result.stderr)
            return out
        }
        let reference = try catalogs(in: try run("local1", ["--master", "local[1]"]))
        XCTAssertEqual(reference.count, 4)
        XCTAssertEqual(try catalogs(in: try run("local2", ["--master", "local[2]"])), reference, "local[2]")

        // A copy is launched as soon as a task runs longer than the median and a slot is free.
        let events = dir.appendingPathComponent("events")
        let speculative = try run("speculation", ["--master", "local[2]"] + [
            "sextant.speculation=true", "sextant.speculation.quantile=0.01", "sextant.speculation.multiplier=1",
            "sextant.speculation.minRuntime=0ms", "sextant.speculation.interval=5ms",
            "sextant.eventLog.enabled=true", "sextant.eventLog.dir=\(events.path)",
        ].flatMap { ["--conf", $0] })
        XCTAssertEqual(try catalogs(in: speculative), reference, "with speculation")
        let log = try FileManager.default.contentsOfDirectory(atPath: events.path)
            .map { try String(contentsOf: events.appendingPathComponent($0), encoding: .utf8) }.joined()
        XCTAssertTrue(log.contains("\"speculative\":true"), "speculative copies did run")

        // A lost catalog is made again from its input, the same bytes.
        let recompute = dir.appendingPathComponent("local1")
        try FileManager.default.removeItem(at: recompute.appendingPathComponent("small-000002.cat.fits"))
        XCTAssertEqual(try Sextant.run(["run", frames.path, "--out", recompute.path, "--resume", "--master", "local[2]"]).status, 0)
        XCTAssertEqual(try catalogs(in: recompute), reference, "after a recompute")

        let cluster = ClusterHarness(directory: dir)
        self.cluster = cluster
        try cluster.startMaster()
        for name in ["e1", "e2"] { try cluster.startExecutor(name) }
        try cluster.waitForExecutors(2)
        let clustered = dir.appendingPathComponent("cluster")
        let remote = try cluster.client(["run", frames.path, "--out", clustered.path])
        XCTAssertEqual(remote.status, 0, remote.stdout + remote.stderr + cluster.log("master"))
        XCTAssertEqual(try catalogs(in: clustered), reference, "in a cluster")
        let verified = try Sextant.run(["verify", clustered.path])
        XCTAssertEqual(verified.status, 0, "a cluster job verifies locally: " + verified.stdout + verified.stderr)
    }
}
