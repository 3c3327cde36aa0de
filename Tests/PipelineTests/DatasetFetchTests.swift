import Foundation
import Pipeline
import TestSupport
import XCTest

/// `sextant datasets fetch` against a real HTTP server (Python's http.server on loopback).
final class DatasetFetchTests: XCTestCase {
    private var served: URL!
    private var server: Process!
    private var base = ""

    override func setUpWithError() throws {
        served = try TestSupport.makeTemporaryDirectory("fetch-served")
        (server, base) = try Self.startServer(serving: served)
    }

    override func tearDown() {
        TestSupport.stop(server)
    }

    func testDownloadsVerifiesAndReportsEachFailure() throws {
        try Data("first frame bytes\n".utf8).write(to: served.appendingPathComponent("a.fits"))
        try Data(repeating: 7, count: 300_000).write(to: served.appendingPathComponent("b.fits"))
        try Data("tampered\n".utf8).write(to: served.appendingPathComponent("c.fits"))
        let shaA = try sha256sum(served.appendingPathComponent("a.fits"))
        let list = """
            # comment line
            \(base)/a.fits \(shaA)
            \(base)/b.fits
            \(base)/c.fits \(String(repeating: "ab", count: 32))
            \(base)/missing.fits
            """
        let files = try RemoteFile.parseList(list)
        XCTAssertEqual(files.map(\.name), ["a.fits", "b.fits", "c.fits", "missing.fits"])

        let out = try TestSupport.makeTemporaryDirectory("fetch-out")
        let outcomes = try fetcher(into: out).fetch(files)
        XCTAssertEqual(outcomes[0].status, .downloaded(bytes: 18, attempts: 1))
        XCTAssertEqual(outcomes[1].status, .downloaded(bytes: 300_000, attempts: 1))
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("a.fits")),
                       try Data(contentsOf: served.appendingPathComponent("a.fits")))
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("b.fits")).count, 300_000)

        // A wrong checksum is retried (it may be a broken transfer), then reported; nothing is stored.
        guard case .failed(let mismatch) = outcomes[2].status else { return XCTFail("\(outcomes[2])") }
        XCTAssertTrue(mismatch.contains("checksum mismatch"), mismatch)
        XCTAssertTrue(mismatch.contains(try sha256sum(served.appendingPathComponent("c.fits"))), mismatch)
        XCTAssertTrue(mismatch.contains("after 2 attempts"), mismatch)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("c.fits").path))

        // A 404 is final: no retry.
        guard case .failed(let notFound) = outcomes[3].status else { return XCTFail("\(outcomes[3])") }
        XCTAssertTrue(notFound.hasPrefix("HTTP 404 "), notFound)
        XCTAssertFalse(notFound.contains("attempts"), notFound)
        XCTAssertTrue(outcomes[3].line.hasPrefix("\(base)/missing.fits: HTTP 404"), outcomes[3].line)
    }

    func testRerunSkipsGoodCopiesAndReplacesBadOnes() throws {
        try Data("alpha\n".utf8).write(to: served.appendingPathComponent("a.fits"))
        try Data("beta\n".utf8).write(to: served.appendingPathComponent("b.fits"))
        let files = try RemoteFile.parseList("""
            \(base)/a.fits \(try sha256sum(served.appendingPathComponent("a.fits")))
            \(base)/b.fits \(try sha256sum(served.appendingPathComponent("b.fits")))
            """)
        let out = try TestSupport.makeTemporaryDirectory("fetch-rerun")
        try Data("alpha\n".utf8).write(to: out.appendingPathComponent("a.fits"))
        try Data("stale\n".utf8).write(to: out.appendingPathComponent("b.fits"))

        let outcomes = try fetcher(into: out).fetch(files)
        XCTAssertEqual(outcomes.map(\.status), [.alreadyPresent, .downloaded(bytes: 5, attempts: 1)])
        XCTAssertEqual(try String(contentsOf: out.appendingPathComponent("b.fits"), encoding: .utf8), "beta\n")
    }

    func testMalformedListsNameTheLine() {
        for (text, reason) in [("ftp://host/a.fits", "not an http(s) URL"),
                               ("http://host/a.fits 1234", "64 hex digits"),
                               ("http://host/a.fits\nhttp://other/a.fits", "already fetched by line 1")] {
            XCTAssertThrowsError(try RemoteFile.parseList(text, file: "urls.txt")) { error in
                XCTAssertTrue("\(error)".hasPrefix("urls.txt:"), "\(error)")
                XCTAssertTrue("\(error)".contains(reason), "\(error)")
            }
        }
    }

    private func fetcher(into directory: URL) throws -> DatasetFetcher {
        var options = DatasetFetcher.Options()
        options.retries = 1
        options.initialBackoff = 0.05
        options.timeout = 10
        return try DatasetFetcher(into: directory.path, options: options)
    }

    private func sha256sum(_ file: URL) throws -> String {
        let out = try TestSupport.run("/usr/bin/sha256sum", [file.path])
        return String(out.stdout.prefix(64))
    }

    /// `python3 -m http.server 0` on 127.0.0.1; the kernel picks the port, which it prints.
    static func startServer(serving directory: URL) throws -> (Process, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestSupport.systemPython)
        process.arguments = ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", directory.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        var text = ""
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
            if let range = text.range(of: #"port (\d+)"#, options: .regularExpression) {
                let port = text[range].split(separator: " ")[1]
                return (process, "http://127.0.0.1:\(port)")
            }
        }
        kill(process.processIdentifier, SIGKILL)
        throw TestSupportError.commandFailed("http.server did not start: \(text)")
    }
}
