import Foundation
import TestSupport
import XCTest

/// `sextant run --master local[N]` and its worker processes: a run refused before its job says
/// why in its own words and leaves no worker; a job's workers exit with it.
final class LocalWorkersLifecycleTests: XCTestCase {
    /// Processes (alive, not zombies) whose environment carries `tag`: the run and its workers.
    private func processes(tagged tag: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ"),
                  let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  !stat.split(separator: ")").last!.trimmingCharacters(in: .whitespaces).hasPrefix("Z") else { return false }
            return environ.split(separator: 0).contains { $0.elementsEqual("SEXTANT_TEST_TAG=\(tag)".utf8) }
        }
    }

    func testARunRefusedBeforeItsJobSaysWhyAndLeavesNoWorker() throws {
        let dir = try TestSupport.makeTemporaryDirectory("prestart-refused")
        defer { try? FileManager.default.removeItem(at: dir) }
        let tag = UUID().uuidString
        let run = try Sextant.run(["run", "@" + dir.appendingPathComponent("missing.txt").path,
                                   "--out", dir.appendingPathComponent("out").path, "--master", "local[2]"],
                                  environment: ["SEXTANT_TEST_TAG": tag])
        XCTAssertEqual(run.status, 2, run.stderr)
        XCTAssertTrue(run.stderr.contains("missing.txt"), "the input list's own error: \(run.stderr)")
        XCTAssertFalse(run.stderr.contains("worker"), run.stderr)
        XCTAssertEqual(processes(tagged: tag), [], "no worker outlives the refused run")
    }

    func testAJobRunsOnItsWorkersAndNoneOutlivesIt() throws {
        let dir = try TestSupport.makeTemporaryDirectory("prestart-job")
        defer { try? FileManager.default.removeItem(at: dir) }
        let frames = dir.appendingPathComponent("frames")
        try Sextant.generate("small", count: 3, into: frames)
        let tag = UUID().uuidString
        let out = dir.appendingPathComponent("out")
        let run = try Sextant.run(["run", frames.path, "--out", out.path, "--master", "local[2]"],
                                  environment: ["SEXTANT_TEST_TAG": tag])
        XCTAssertEqual(run.status, 0, run.stderr)
        let manifest = try ChaosCheck.manifest(in: out)
        XCTAssertEqual(manifest.count, 3)
        // Two workers served the job.
        XCTAssertEqual(Set(manifest.compactMap { $0["executor"] as? String }).isSubset(of: ["worker-1", "worker-2"]), true,
                       "\(manifest.map { $0["executor"] ?? "-" })")
        XCTAssertEqual(processes(tagged: tag), [], "the workers exit with the run")
    }

    /// `sextant worker` is served without ArgumentParser only as launchers start it; anything
    /// else is still parsed (help, errors), and a worker given no requests exits.
    func testTheWorkerCommandServesItsLaunchersAndParsesAnythingElse() throws {
        let help = try Sextant.run(["worker", "--help"])
        XCTAssertEqual(help.status, 0, help.stderr)
        XCTAssertTrue(help.stdout.contains("Internal: a task process"), help.stdout)
        let wrong = try Sextant.run(["worker", "--no-such-flag"])
        XCTAssertEqual(wrong.status, 64, "ArgumentParser's usage error: \(wrong.stderr)")
        XCTAssertTrue(wrong.stderr.contains("--no-such-flag"), wrong.stderr)
        for arguments in ["worker", "worker --executor"] {
            // Standard input at its end: no request, so the worker loop exits at once, cleanly.
            let served = try TestSupport.run("/bin/sh", ["-c", "exec \"$0\" \(arguments) </dev/null", Sextant.binary],
                                             timeout: 60)
            XCTAssertEqual(served.status, 0, "\(arguments): \(served.stderr)")
            XCTAssertEqual(served.stdout, "", "\(arguments): the loop, not ArgumentParser's help")
        }
    }
}
