import Foundation
import Storage
import TestSupport
import XCTest

/// Instance-role credentials from an IMDSv2 look-alike on 127.0.0.1, used against the real
/// SeaweedFS: the token dance, the role lookup, and the credentials signing real requests.
final class InstanceMetadataTests: XCTestCase {
    private var server: Process?

    override func tearDown() {
        TestSupport.stop(server, signal: SIGTERM)
        super.tearDown()
    }

    /// Starts a fake metadata service that serves `accessKey`/`secretKey` for role `role`
    /// (no role when nil) and insists on the IMDSv2 token; returns its URL.
    private func startMetadataService(role: String?, accessKey: String, secretKey: String) throws -> String {
        let dir = try TestSupport.makeTemporaryDirectory("imds")
        let portFile = dir.appendingPathComponent("port")
        let script = """
        import http.server, json, sys
        ROLE, KEY, SECRET, PORTFILE = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
        TOKEN = 'token-123'
        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a): pass
            def reply(self, code, body):
                data = body.encode()
                self.send_response(code); self.send_header('Content-Length', str(len(data))); self.end_headers()
                self.wfile.write(data)
            def do_PUT(self):
                if self.path == '/latest/api/token' and self.headers.get('X-aws-ec2-metadata-token-ttl-seconds'):
                    self.reply(200, TOKEN)
                else:
                    self.reply(400, 'bad token request')
            def do_GET(self):
                if self.headers.get('X-aws-ec2-metadata-token') != TOKEN:
                    return self.reply(401, 'IMDSv2 token required')
                base = '/latest/meta-data/iam/security-credentials/'
                if self.path == base:
                    return self.reply(200, ROLE) if ROLE != '-' else self.reply(404, '')
                if self.path == base + ROLE:
                    return self.reply(200, json.dumps({'Code': 'Success', 'AccessKeyId': KEY,
                                                       'SecretAccessKey': SECRET, 'Token': ''}))
                self.reply(404, 'not found')
        s = http.server.HTTPServer(('127.0.0.1', 0), H)
        open(PORTFILE, 'w').write(str(s.server_address[1]))
        s.serve_forever()
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestSupport.systemPython)
        process.arguments = ["-c", script, role ?? "-", accessKey, secretKey, portFile.path]
        try process.run()
        server = process
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let port = try? String(contentsOf: portFile, encoding: .utf8), !port.isEmpty { return "http://127.0.0.1:\(port)" }
            usleep(20_000)
        }
        throw TestSupportError.commandFailed("the fake metadata service did not start")
    }

    private var s3: (endpoint: String, access: String, secret: String, bucket: String)? {
        let env = ProcessInfo.processInfo.environment
        guard let endpoint = env["SEXTANT_TEST_S3_ENDPOINT"], let access = env["SEXTANT_TEST_S3_ACCESS_KEY"],
              let secret = env["SEXTANT_TEST_S3_SECRET_KEY"], let bucket = env["SEXTANT_TEST_S3_BUCKET"] else { return nil }
        return (endpoint, access, secret, bucket)
    }

    /// No AWS variables and no credentials file: only the instance role can answer.
    private let bareEnvironment = ["HOME": "/nonexistent-home"]

    func testInstanceRoleCredentialsSignRealRequests() throws {
        guard let s3 else { throw XCTSkip("no S3 server: run the suite with scripts/test") }
        let metadata = try startMetadataService(role: "sextant-node", accessKey: s3.access, secretKey: s3.secret)
        let store = try StoreFactory.makeStore(for: "s3://\(s3.bucket)/imds-test", settings: [
            "sextant.s3.endpoint": s3.endpoint, "sextant.s3.instanceProfile": "true",
            "sextant.s3.metadataEndpoint": metadata,
        ], environment: bareEnvironment)
        try store.put("hello.txt", data: Data("from the instance role".utf8))
        XCTAssertEqual(String(decoding: try store.get("hello.txt"), as: UTF8.self), "from the instance role")
        try store.delete("hello.txt")
    }

    func testNoRoleAndNoOptInGiveClearErrors() throws {
        let metadata = try startMetadataService(role: nil, accessKey: "x", secretKey: "y")
        XCTAssertThrowsError(try StoreFactory.makeStore(for: "s3://bucket", settings: [
            "sextant.s3.instanceProfile": "true", "sextant.s3.metadataEndpoint": metadata,
        ], environment: bareEnvironment)) { error in
            XCTAssertTrue("\(error)".contains("no IAM role"), "\(error)")
        }
        // Without the opt-in the metadata service is never asked.
        XCTAssertThrowsError(try StoreFactory.makeStore(for: "s3://bucket", settings: [:], environment: bareEnvironment)) {
            error in
            XCTAssertTrue("\(error)".contains("no S3 credentials"), "\(error)")
            XCTAssertTrue("\(error)".contains("sextant.s3.instanceProfile"), "\(error)")
        }
    }
}
