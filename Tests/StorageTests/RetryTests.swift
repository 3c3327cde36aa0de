import Foundation
import XCTest
import TestSupport
@testable import Storage

/// The retry policy against a scripted HTTP server (Python's http.server): it answers each request
/// with the next step of a plan, "503:SlowDown", "drop" (close without answering), "200", ...,
/// and counts the requests it saw. Signatures are not checked here; SeaweedFS tests do that.
final class RetryTests: XCTestCase {
    private static let stub = #"""
    import http.server, socket, sys
    plan, count_file = sys.argv[1].split(","), sys.argv[2]
    seen = 0
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def answer(self):
            global seen
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            step = plan[min(seen, len(plan) - 1)]
            seen += 1
            with open(count_file, "w") as f:
                f.write(str(seen))
            if step == "drop":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            status, _, code = step.partition(":")
            body = b"" if int(status) < 300 else (
                "<Error><Code>%s</Code><Message>stub says %s</Message></Error>" % (code, code)).encode()
            self.send_response(int(status))
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", '"stub"')
            self.end_headers()
            self.wfile.write(body)
        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = answer
        def log_message(self, *args):
            pass
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if len(sys.argv) > 4:  # serve HTTPS with this certificate and key
        import ssl
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[3], sys.argv[4])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    server.serve_forever()
    """#

    private var process: Process?
    private var countFile: URL!

    override func tearDown() {
        TestSupport.stop(process, signal: SIGTERM)
        if let countFile { try? FileManager.default.removeItem(at: countFile) }
    }

    /// Starts the stub with `plan` and returns a store pointed at it.
    private func store(plan: String, maxRetries: Int = 5, tls: (cert: String, key: String)? = nil) throws -> S3Store {
        countFile = FileManager.default.temporaryDirectory.appendingPathComponent("stub-count-\(UUID().uuidString)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestSupport.systemPython)
        process.arguments = ["-c", RetryTests.stub, plan, countFile.path] + (tls.map { [$0.cert, $0.key] } ?? [])
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        self.process = process
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw XCTSkip("the Python stub server did not start") }
            line += chunk
        }
        let port = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let settings = S3TestServer.settings(endpoint: "\(tls == nil ? "http" : "https")://127.0.0.1:\(port)", [
            "sextant.s3.accessKey": "stub", "sextant.s3.secretKey": "stub",
            "sextant.s3.maxRetries": String(maxRetries), "sextant.s3.retryBaseDelay": "0.01",
        ])
        return S3Store(bucket: "stub", settings: try S3Settings(settings: settings, environment: [:]),
                       credentials: S3Credentials(accessKey: "stub", secretKey: "stub"))
    }

    private var requests: Int { Int((try? String(contentsOf: countFile, encoding: .utf8)) ?? "") ?? 0 }

    func testRetriesServerErrorsAndSlowDown() throws {
        let store = try store(plan: "503:SlowDown,500:InternalError,200")
        try store.put("k", data: Data("x".utf8))
        XCTAssertEqual(requests, 3)
    }

    func testRetriesADroppedConnection() throws {
        let store = try store(plan: "drop,200")
        try store.put("k", data: Data("x".utf8))
        XCTAssertEqual(requests, 2)
    }

    func testGivesUpAfterMaxRetriesWithTheLastAnswer() throws {
        let store = try store(plan: "503:SlowDown", maxRetries: 2)
        XCTAssertThrowsError(try store.put("k", data: Data("x".utf8))) { error in
            XCTAssertEqual("\(error)", "s3://stub/k: SlowDown (503): stub says SlowDown")
        }
        XCTAssertEqual(requests, 3, "one try and two retries")
    }

    /// HTTPS goes through the system CA store: a self-signed server certificate is refused at once
    /// (not retried), with a message that says so.
    func testHTTPSRefusesAnUntrustedCertificate() throws {
        let dir = try TestSupport.makeTemporaryDirectory("stub-tls")
        defer { try? FileManager.default.removeItem(at: dir) }
        let cert = dir.appendingPathComponent("cert.pem").path, key = dir.appendingPathComponent("key.pem").path
        let made = try TestSupport.run("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ])
        guard made.status == 0 else { throw XCTSkip("openssl could not make a test certificate: \(made.stderr)") }
        let store = try store(plan: "200", maxRetries: 3, tls: (cert, key))
        XCTAssertThrowsError(try store.put("k", data: Data("x".utf8))) { error in
            XCTAssertEqual((error as? StorageError)?.kind, .transport)
            XCTAssertTrue("\(error)".contains("failed after 1 attempt"), "\(error)")
        }
        XCTAssertEqual(requests, 0, "no request got past the TLS handshake")
    }

    func testDoesNotRetryClientErrors() throws {
        let store = try store(plan: "400:InvalidArgument,200")
        XCTAssertThrowsError(try store.put("k", data: Data("x".utf8))) { error in
            XCTAssertEqual((error as? StorageError)?.code, "InvalidArgument")
        }
        XCTAssertEqual(requests, 1)
    }
}
