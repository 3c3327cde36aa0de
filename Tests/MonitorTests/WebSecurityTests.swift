import Foundation
@testable import Monitor
import TestSupport
import XCTest

/// The web UI's defences, over real sockets with curl: DNS rebinding, the token, headers, and
/// connections that are too many or too slow.
final class WebSecurityTests: XCTestCase {
    private let token = "ui-token-0123456789abcdef"

    private func serve(_ configure: (inout MonitorSettings) -> Void = { _ in }) throws -> (WebServer, String) {
        var settings = MonitorSettings()
        configure(&settings)
        let server = WebServer(monitor: try Monitor(settings: settings))
        let url = try server.start(host: "127.0.0.1", port: 0)
        return (server, url)
    }

    /// Status, headers (lower-cased names) and body of one request, with the given headers.
    private func request(_ url: String, headers: [String] = []) throws -> (status: Int, headers: [String: String], body: String) {
        let out = try TestSupport.run("/usr/bin/curl", ["-sS", "-D", "-", "-o", "-", "--max-time", "5"]
                                      + headers.flatMap { ["-H", $0] } + [url])
        XCTAssertEqual(out.status, 0, out.stderr)
        let blocks = out.stdout.components(separatedBy: "\r\n\r\n")
        let head = blocks.first ?? ""
        let body = blocks.dropFirst().joined(separator: "\r\n\r\n")
        var fields: [String: String] = [:]
        for line in head.components(separatedBy: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        }
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        return (status, fields, body)
    }

    func testARequestForAnotherHostNameIsRefused() throws {
        let (server, url) = try serve { $0.access.allowedHosts = ["sextant.example.org"] }
        defer { server.stop() }
        let port = try XCTUnwrap(server.port)
        let rebound = try request(url, headers: ["Host: attacker.example:\(port)"])
        XCTAssertEqual(rebound.status, 421, "a page on attacker.example resolving to 127.0.0.1 gets nothing")
        XCTAssertTrue(rebound.body.contains("does not answer to Host &#39;attacker.example"), rebound.body)
        XCTAssertEqual(try request(url).status, 200, "127.0.0.1 is fine")
        XCTAssertEqual(try request(url, headers: ["Host: localhost:\(port)"]).status, 200)
        XCTAssertEqual(try request(url, headers: ["Host: sextant.example.org"]).status, 200, "sextant.ui.allowedHosts")
    }

    func testBeyondLoopbackTheUIRequiresAToken() throws {
        let open = WebServer(monitor: try Monitor(settings: MonitorSettings()))
        XCTAssertThrowsError(try open.start(host: "0.0.0.0", port: 0)) { error in
            XCTAssertTrue("\(error)".hasPrefix("the web UI would listen on 0.0.0.0 without a token"), "\(error)")
        }
        let (server, url) = try serve { $0.access.token = token }
        defer { server.stop() }
        XCTAssertEqual(try request(url + "api/v1/jobs").status, 401)
        XCTAssertEqual(try request(url + "metrics", headers: ["Authorization: Bearer wrong-token-0123456789"]).status, 401)
        XCTAssertEqual(try request(url + "metrics", headers: ["Authorization: Bearer \(token)"]).status, 200)
        let link = try request(url + "jobs?token=\(token)")
        XCTAssertEqual(link.status, 303)
        XCTAssertEqual(link.headers["location"], "/jobs", "the token leaves the address bar")
        XCTAssertEqual(link.headers["set-cookie"], "sextant_ui_token=\(token); Path=/; HttpOnly; SameSite=Strict")
        XCTAssertEqual(try request(url + "jobs", headers: ["Cookie: sextant_ui_token=\(token)"]).status, 200)
    }

    func testEveryResponseCarriesTheSecurityHeaders() throws {
        let (server, url) = try serve()
        defer { server.stop() }
        for path in ["", "jobs/none", "api/v1/jobs", "metrics"] {
            let response = try request(url + path)
            XCTAssertEqual(response.headers["x-content-type-options"], "nosniff", path)
            XCTAssertEqual(response.headers["x-frame-options"], "DENY", path)
            XCTAssertEqual(response.headers["referrer-policy"], "same-origin", path)
            XCTAssertTrue(response.headers["content-security-policy"]?.contains("default-src 'none'") ?? false, path)
            XCTAssertTrue(response.headers["content-security-policy"]?.contains("frame-ancestors 'none'") ?? false, path)
        }
    }

    func testConnectionsAreCappedAndSlowOnesCutOff() throws {
        let (server, url) = try serve {
            $0.maxConnections = 2
            $0.requestTimeout = 0.5
        }
        defer { server.stop() }
        let port = try XCTUnwrap(server.port)
        // Two slow-loris connections hold both slots (a request line and no end of headers)...
        let loris = try (0..<2).map { _ in try SlowClient(port: port) }
        Thread.sleep(forTimeInterval: 0.1)
        let third = try TestSupport.run("/usr/bin/curl", ["-sS", "--max-time", "5", url])
        XCTAssertNotEqual(third.status, 0, "a third connection is refused while both are held: \(third.stdout)")
        // ...until the request timeout closes them and frees the slots.
        for client in loris { XCTAssertTrue(client.waitForClose(timeout: 3), "cut off after sextant.ui request timeout") }
        XCTAssertEqual(try request(url).status, 200)
    }
}

/// A client that sends half a request and waits.
private final class SlowClient {
    private let handle: FileHandle
    private let process: Process

    init(port: Int) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", """
            import socket, sys, time
            s = socket.create_connection(('127.0.0.1', \(port)))
            s.sendall(b'GET / HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n')
            print('connected', flush=True)
            s.settimeout(10)
            try:
                data = s.recv(100)
            except Exception:
                pass
            print('closed', flush=True)
            """]
        let pipe = Pipe()
        process.standardOutput = pipe
        handle = pipe.fileHandleForReading
        try process.run()
        _ = handle.availableData  // blocks until "connected"
    }

    func waitForClose(timeout: TimeInterval) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        return !process.isRunning && String(decoding: handle.readDataToEndOfFile(), as: UTF8.self).contains("closed")
    }
}
