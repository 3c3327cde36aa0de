import Foundation
import TestSupport
import XCTest

/// `sextant run --pipe` as a user runs it: Debian's source-extractor on generated frames in
/// local and cluster mode, the allow-list and preflight, and no process left behind.
final class PipeTests: XCTestCase {
    private var cluster: ClusterHarness?

    override func tearDown() {
        cluster?.shutDown()
        super.tearDown()
    }

    func testSourceExtractorWritesOneCatalogPerInputLocallyAndOnACluster() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-pipe")
        let frames = dir.appendingPathComponent("frames")
        try Sextant.generate("small", count: 4, into: frames)
        let command = try SourceExtractorFixture.command(in: dir)

        let local = try Sextant.run(["run", frames.path, "--out", dir.appendingPathComponent("local").path,
                                     "--pipe", command, "--master", "local[2]"], in: dir)
        XCTAssertEqual(local.status, 0, local.stdout + local.stderr)
        let names = try SourceExtractorFixture.assertCatalogs(in: dir.appendingPathComponent("local"), frames: frames, dir: dir)
        XCTAssertEqual(names.count, 4)

        let cluster = ClusterHarness(directory: dir)
        self.cluster = cluster
        try cluster.startMaster()
        for name in ["e1", "e2"] {
            try cluster.startExecutor(name, extraConf: ["sextant.pipe.allowedCommands=source-extractor,/bin/sh"])
        }
        try cluster.waitForExecutors(2)
        let remote = try cluster.client(["run", frames.path, "--out", dir.appendingPathComponent("cluster").path,
                                         "--pipe", command, "--conf", "sextant.pipe.workDir=\(dir.path)"])
        XCTAssertEqual(remote.status, 0, remote.stdout + remote.stderr + cluster.log("master"))
        for name in names {
            XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("cluster/\(name)")),
                           try Data(contentsOf: dir.appendingPathComponent("local/\(name)")), name)
        }

        // `sextant cancel` kills the programs on the executors.
        let marker = "61.\(UInt32.random(in: 100_000...999_999))"
        let submit = try cluster.client(["submit", frames.path, "--out", dir.appendingPathComponent("slow").path,
                                         "--pipe-shell", "--pipe", "sleep \(marker); : {output}"])
        XCTAssertEqual(submit.status, 0, submit.stderr)
        XCTAssertTrue(TestSupport.eventually(20) { TestSupport.processes(commandLineStartingWith: "sleep \(marker)").count == 2 },
                      "both executors started a sleep: \(cluster.log("e1"))")
        let cancel = try cluster.client(["cancel", submit.stdout.trimmingCharacters(in: .whitespacesAndNewlines)])
        XCTAssertEqual(cancel.status, 0, cancel.stderr)
        XCTAssertTrue(TestSupport.eventually(10) { TestSupport.processes(commandLineStartingWith: "sleep \(marker)").isEmpty },
                      "no sleep outlives the cancelled job")

        // An executor told to stop (SIGTERM) takes its programs with it.
        let second = "62.\(UInt32.random(in: 100_000...999_999))"
        let again = try cluster.client(["submit", frames.path, "--out", dir.appendingPathComponent("slow2").path,
                                        "--pipe-shell", "--pipe", "sleep \(second); : {output}"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(TestSupport.eventually(20) { TestSupport.processes(commandLineStartingWith: "sleep \(second)").count == 2 })
        cluster.kill("e2", signal: SIGTERM)
        XCTAssertTrue(TestSupport.eventually(10) { TestSupport.processes(commandLineStartingWith: "sleep \(second)").count == 1 },
                      "the stopped executor's sleep is gone, the other still runs")
        _ = try cluster.client(["cancel", again.stdout.trimmingCharacters(in: .whitespacesAndNewlines)])
        XCTAssertTrue(TestSupport.eventually(10) { TestSupport.processes(commandLineStartingWith: "sleep \(second)").isEmpty })

        // An executor whose conf allows no pipe: the job is refused before any task, naming it.
        try cluster.startExecutor("e3")
        try cluster.waitForExecutors(3)  // e1, e2 (gone now) and e3
        let refused = try cluster.client(["run", frames.path, "--out", dir.appendingPathComponent("refused").path,
                                          "--pipe", command, "--conf", "sextant.pipe.workDir=\(dir.path)",
                                          "--conf", "sextant.pipe.allowedCommands=*"])
        XCTAssertNotEqual(refused.status, 0)
        let output = refused.stdout + refused.stderr
        XCTAssertTrue(output.contains("@e3: source-extractor is not allowed: pipes are off there"), output)
        XCTAssertFalse(output.contains("@e1"), output)
        let written = (try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("refused").path)) ?? []
        XCTAssertFalse(written.contains { $0.hasSuffix(".cat") }, "nothing ran: \(written)")
    }

    /// The timeout leaves Python's start-up (over a second on a loaded 2-core machine) a wide margin.
    func testAFailingInputAndATimeoutAreReportedAndTheRestCommitted() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-pipe-fail")
        let frames = dir.appendingPathComponent("frames")
        try Sextant.generate("small", count: 4, into: frames)
        let script = dir.appendingPathComponent("measure.py")
        try """
        import sys, time
        path, out = sys.argv[1], sys.argv[2]
        if path.endswith("000001.fits"):
            print("cannot measure " + path, file=sys.stderr)
            sys.exit(4)
        if path.endswith("000002.fits"):
            print("sleeping", file=sys.stderr, flush=True)
            time.sleep(120)
        open(out, "w").write(str(len(open(path, "rb").read())) + "\\n")
        """.write(to: script, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("out")
        let result = try Sextant.run(["run", frames.path, "--out", out.path, "--pipe", "python3 measure.py {input} {output:.txt}",
                                      "--conf", "sextant.pipe.timeout=6s"], in: dir)
        XCTAssertEqual(result.status, 1, "some inputs failed: " + result.stdout + result.stderr)
        let entries = try String(contentsOf: out.appendingPathComponent("_manifest.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        XCTAssertEqual(entries.map { $0["outcome"] as? String }, ["committed", "failed", "failed", "committed"])
        XCTAssertEqual(entries[1]["exitStatus"] as? Int, 4)
        XCTAssertEqual(entries[1]["command"] as? String,
                       "python3 measure.py \(frames.path)/small-000001.fits " + ((entries[1]["command"] as? String)?.split(separator: " ").last.map(String.init) ?? ""))
        XCTAssertTrue((entries[1]["stderr"] as? String)?.hasPrefix("cannot measure") == true, "\(entries[1])")
        XCTAssertEqual(entries[2]["signal"] as? Int, Int(SIGTERM))
        XCTAssertEqual(entries[2]["stderr"] as? String, "sleeping")
        XCTAssertTrue((entries[2]["error"] as? String)?.contains("ran past sextant.pipe.timeout (6 s)") == true, "\(entries[2])")
        let size = try FileManager.default.attributesOfItem(atPath: frames.appendingPathComponent("small-000000.fits").path)[.size] as! Int
        XCTAssertEqual(try String(contentsOf: out.appendingPathComponent("small-000000.txt"), encoding: .utf8), "\(size)\n")
        XCTAssertTrue(result.stdout.contains("python3 exited with status 4: cannot measure"), result.stdout)
    }

    func testCtrlCLeavesNoProgramRunning() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-pipe-int")
        let frames = dir.appendingPathComponent("frames")
        try Sextant.generate("small", count: 4, into: frames)
        // Once: stop cleanly. Twice: leave at once, while the first stop still waits for programs
        // that ignore SIGTERM (as a trap in the shell makes them).
        for presses in [1, 2] {
            let marker = "60.\(UInt32.random(in: 100_000...999_999))"
            let out = dir.appendingPathComponent("out-\(presses)")
            let trap = presses == 2 ? "trap '' TERM; " : ""
            let scratch = dir.appendingPathComponent("tmp-\(presses)")
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            let run = try Sextant.start(["run", frames.path, "--out", out.path, "--master", "local[2]",
                                         "--pipe-shell", "--pipe", "\(trap)sleep \(marker); : {output}"],
                                        logTo: dir.appendingPathComponent("run-\(presses).log"), environment: ["TMPDIR": scratch.path])
            XCTAssertTrue(TestSupport.eventually(20) { TestSupport.processes(commandLineStartingWith: "sleep \(marker)").count == 2 },
                          "two sleeps started: " + ((try? String(contentsOf: dir.appendingPathComponent("run-\(presses).log"), encoding: .utf8)) ?? ""))
            let interrupted = Date()
            for _ in 0..<presses {
                kill(run.processIdentifier, SIGINT)
                usleep(300_000)
            }
            XCTAssertEqual(TestSupport.awaitExit(run, timeout: 60), 130)
            XCTAssertLessThan(Date().timeIntervalSince(interrupted), 10, "sextant stops at once, not when its programs end")
            XCTAssertEqual(TestSupport.processes(commandLineStartingWith: "sleep \(marker)"), [],
                           "no sleep outlives sextant (\(presses) Ctrl-C)")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.path), [], "no scratch files left")
        }
        let manifest = try String(contentsOf: dir.appendingPathComponent("out-1/_manifest.jsonl"), encoding: .utf8)
        XCTAssertEqual(manifest.split(separator: "\n").count, 4, "a clean stop still writes the manifest")
    }

    func testBadCommandsAreRefusedBeforeTheJobStarts() throws {
        let dir = try TestSupport.makeTemporaryDirectory("e2e-pipe-bad")
        let frames = dir.appendingPathComponent("frames")
        try Sextant.generate("small", count: 1, into: frames)
        for (command, message) in [("sleep 1", "names no {output}"), ("no-such-tool-xyz {input} {output}", "not found on PATH"),
                                   ("cat {inptu} {output}", "unknown placeholder {inptu}")] {
            let result = try Sextant.run(["run", frames.path, "--out", dir.appendingPathComponent("out").path, "--pipe", command])
            XCTAssertEqual(result.status, 2, command + result.stderr)
            XCTAssertTrue(result.stderr.contains(message), command + ": " + result.stderr)
        }
        let restricted = try Sextant.run(["run", frames.path, "--out", dir.appendingPathComponent("out").path,
                                          "--pipe", "cp {input} {output}", "--conf", "sextant.pipe.allowedCommands=source-extractor"])
        XCTAssertEqual(restricted.status, 2, restricted.stderr)
        XCTAssertTrue(restricted.stderr.contains("cp: not in sextant.pipe.allowedCommands (source-extractor)"), restricted.stderr)
    }
}

/// A SExtractor configuration that writes a small ASCII catalog, and the `--pipe` command using it.
enum SourceExtractorFixture {
    static func command(in dir: URL) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/source-extractor") else {
            throw XCTSkip("source-extractor is not installed (apt-get install source-extractor)")
        }
        let share = "/usr/share/source-extractor"
        try """
        CATALOG_TYPE     ASCII_HEAD
        PARAMETERS_NAME  pipe-test.param
        DETECT_MINAREA   5
        DETECT_THRESH    3
        FILTER           Y
        FILTER_NAME      \(share)/default.conv
        STARNNW_NAME     \(share)/default.nnw
        BACK_SIZE        64
        VERBOSE_TYPE     QUIET
        """.write(to: dir.appendingPathComponent("pipe-test.sex"), atomically: true, encoding: .utf8)
        try "NUMBER\nX_IMAGE\nY_IMAGE\nFLUX_AUTO\nFLAGS\n"
            .write(to: dir.appendingPathComponent("pipe-test.param"), atomically: true, encoding: .utf8)
        return "source-extractor {input} -c pipe-test.sex -CATALOG_NAME {output:.cat}"
    }

    /// Checks `out` holds one catalog per frame, each the bytes source-extractor writes when
    /// run by hand on that frame; returns the catalogs' names.
    @discardableResult
    static func assertCatalogs(in out: URL, frames: URL, dir: URL, file: StaticString = #filePath,
                               line: UInt = #line) throws -> [String] {
        let inputs = try FileManager.default.contentsOfDirectory(atPath: frames.path).filter { $0.hasSuffix(".fits") }.sorted()
        let catalogs = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasSuffix(".cat") }.sorted()
        XCTAssertEqual(catalogs, inputs.map { $0.replacingOccurrences(of: ".fits", with: ".cat") }, file: file, line: line)
        let byHand = dir.appendingPathComponent("by-hand.cat")
        let first = try TestSupport.run("/usr/bin/source-extractor", [frames.appendingPathComponent(inputs[0]).path,
                                                                     "-c", "pipe-test.sex", "-CATALOG_NAME", byHand.path],
                                        currentDirectory: dir)
        XCTAssertEqual(first.status, 0, first.stderr, file: file, line: line)
        let committed = try Data(contentsOf: out.appendingPathComponent(catalogs[0]))
        XCTAssertEqual(committed, try Data(contentsOf: byHand), "committed as source-extractor wrote it", file: file, line: line)
        let rows = String(decoding: committed, as: UTF8.self).split(separator: "\n").filter { !$0.hasPrefix("#") }
        XCTAssertGreaterThan(rows.count, 20, "sources were found", file: file, line: line)
        return catalogs
    }
}

extension S3JobTests {
    /// Inputs staged from S3 to a scratch file, catalogs committed back to S3, locally and on a cluster.
    func testPipeReadsAndWritesS3() throws {
        let server = try sharedServer()
        let dir = try TestSupport.makeTemporaryDirectory("e2e-s3-pipe")
        let run = "pipe-\(UUID().uuidString.prefix(8))"
        let frames = try uploadFrames(3, to: server, prefix: "\(run)/in", in: dir)
        let command = try SourceExtractorFixture.command(in: dir)
        let onFiles = dir.appendingPathComponent("files")
        XCTAssertEqual(try Sextant.run(["run", frames.path, "--out", onFiles.path, "--pipe", command], in: dir).status, 0)
        let expected = try SourceExtractorFixture.assertCatalogs(in: onFiles, frames: frames, dir: dir)

        let scratch = dir.appendingPathComponent("tmp")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let local = try Sextant.run(["run", "s3://\(server.bucket)/\(run)/in", "--out", "s3://\(server.bucket)/\(run)/local",
                                     "--pipe", command] + server.conf, in: dir,
                                    environment: server.environment.merging(["TMPDIR": scratch.path]) { _, new in new })
        XCTAssertEqual(local.status, 0, local.stdout + local.stderr)

        let cluster = ClusterHarness(directory: dir)
        self.cluster = cluster
        // The endpoint is each daemon's own setting: a job cannot point their credentials elsewhere.
        let daemons = server.environment.merging(["AWS_ENDPOINT_URL_S3": server.endpoint]) { _, new in new }
        try cluster.startMaster(environment: daemons)
        try cluster.startExecutor("e1", environment: daemons.merging(["TMPDIR": scratch.path]) { _, new in new },
                                  extraConf: ["sextant.pipe.allowedCommands=source-extractor"])
        try cluster.waitForExecutors(1)
        var environment = cluster.environment
        environment.merge(server.environment) { _, new in new }
        let remote = try TestSupport.run(Sextant.binary, ["run", "s3://\(server.bucket)/\(run)/in",
                                                          "--out", "s3://\(server.bucket)/\(run)/cluster", "--pipe", command,
                                                          "--master", cluster.masterURL] + server.conf,
                                         environment: environment, currentDirectory: dir)
        XCTAssertEqual(remote.status, 0, remote.stdout + remote.stderr + cluster.log("master"))

        let store = try server.store()
        for output in ["local", "cluster"] {
            for name in expected {
                XCTAssertEqual(try store.get("\(run)/\(output)/\(name)"), try Data(contentsOf: onFiles.appendingPathComponent(name)),
                               "\(output): \(name) in S3 is what source-extractor wrote from the file")
            }
        }
        // The running executor's large-image slot directory is its own until it stops.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { !$0.hasPrefix("sextant-slots-") }, [],
                       "staged inputs and outputs are removed")
    }
}
