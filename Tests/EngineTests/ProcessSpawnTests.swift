import Foundation
import XCTest
@testable import Engine

/// `ProcessSpawn`: the child gets the descriptors asked for and nothing else of ours, default
/// signal dispositions, and its wait status reads as words.
final class ProcessSpawnTests: XCTestCase {
    func testTheChildSeesOnlyItsThreeDescriptorsAndDefaultSignals() throws {
        // A descriptor of ours without close-on-exec, which a plain spawn would hand down.
        let leaked = open("/dev/null", O_RDONLY)
        XCTAssertGreaterThan(leaked, 2)
        defer { close(leaked) }
        signal(SIGPIPE, SIG_IGN)
        var pipeEnds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&pipeEnds), 0)
        let pid = try ProcessSpawn.spawn(
            executable: "/bin/sh",
            arguments: ["/bin/sh", "-c", "ls /proc/self/fd; grep '^SigIgn' /proc/self/status"],
            environment: ["PATH": "/usr/bin:/bin"],
            descriptors: [0: .open(path: "/dev/null", flags: O_RDONLY, mode: 0), 1: .duplicate(pipeEnds[1])])
        close(pipeEnds[1])
        let output = FileHandle(fileDescriptor: pipeEnds[0], closeOnDealloc: true).readDataToEndOfFile()
        var status: Int32 = 0
        XCTAssertEqual(waitpid(pid, &status, 0), pid)
        XCTAssertEqual(ProcessSpawn.describe(waitStatus: status), "exited with status 0")
        let lines = String(decoding: output, as: UTF8.self).split(separator: "\n")
        // 0, 1, 2 and the directory `ls` itself opened: not `leaked`, not the pipe's read end.
        let descriptors = Set(lines.compactMap { Int32($0) })
        XCTAssertTrue(descriptors.isSuperset(of: [0, 1, 2]), "\(lines)")
        XCTAssertFalse(descriptors.contains(leaked), "our descriptor \(leaked) leaked into the child: \(lines)")
        XCTAssertFalse(pipeEnds[0] > 3 && descriptors.contains(pipeEnds[0]), "the pipe's read end leaked (3 is ls's own): \(lines)")
        XCTAssertLessThanOrEqual(descriptors.count, 4, "\(lines)")
        // SIGPIPE, ignored here, is back to its default there: no standard signal (1-31) is ignored
        // (glibc keeps its own real-time ones, 32 and 33, to itself).
        let ignored = try XCTUnwrap(lines.first { $0.hasPrefix("SigIgn") }?.split(separator: "\t").last.flatMap { UInt64($0, radix: 16) })
        XCTAssertEqual(ignored & 0x7FFF_FFFF, 0, "ignored signals: \(String(ignored, radix: 16))")
    }

    func testAWaitStatusReadsAsWords() {
        XCTAssertEqual(ProcessSpawn.describe(waitStatus: 3 << 8), "exited with status 3")
        XCTAssertEqual(ProcessSpawn.describe(waitStatus: SIGABRT), "died of signal 6 (SIGABRT)")
        XCTAssertEqual(ProcessSpawn.describe(waitStatus: 40), "died of signal 40")
    }

    func testAProgramThatCannotRunIsAnErrorNotACrash() {
        XCTAssertThrowsError(try ProcessSpawn.spawn(executable: "/nonexistent/program", arguments: ["x"],
                                                    environment: [:], descriptors: [:])) { error in
            XCTAssertTrue("\(error)".contains("No such file"), "\(error)")
        }
    }
}
