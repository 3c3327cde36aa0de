import Foundation
import XCTest
import TestSupport
@testable import Storage

/// The S3 server scripts/test starts (scripts/s3-server), as the environment describes it.
enum S3TestServer {
    static let environment = ProcessInfo.processInfo.environment

    static var endpoint: String? { environment["SEXTANT_TEST_S3_ENDPOINT"] }
    static var accessKey: String { environment["SEXTANT_TEST_S3_ACCESS_KEY"] ?? "" }
    static var secretKey: String { environment["SEXTANT_TEST_S3_SECRET_KEY"] ?? "" }
    static var bucket: String { environment["SEXTANT_TEST_S3_BUCKET"] ?? "sextant-test" }

    static func requireEndpoint() throws -> String {
        guard let endpoint else {
            throw XCTSkip("SEXTANT_TEST_S3_ENDPOINT is unset: run scripts/test, or `source scripts/s3-server; start_s3_server DIR`")
        }
        return endpoint
    }

    /// Conf keys for the test server; `overrides` win.
    static func settings(endpoint: String, _ overrides: [String: String] = [:]) -> [String: String] {
        [
            "sextant.s3.endpoint": endpoint,
            "sextant.s3.region": "us-east-1",
            "sextant.s3.accessKey": accessKey,
            "sextant.s3.secretKey": secretKey,
        ].merging(overrides) { _, new in new }
    }

    /// A store under a fresh prefix of the test bucket, made through the factory with the conf
    /// keys as the only credentials (no ambient AWS_* variables or ~/.aws/credentials).
    static func makeStore(_ overrides: [String: String] = [:], endpoint: String? = nil,
                          bucket: String? = nil) throws -> S3Store {
        let endpoint = try endpoint ?? requireEndpoint()
        let location = "s3://\(bucket ?? self.bucket)/test-\(UUID().uuidString.prefix(8))"
        let store = try StoreFactory.makeStore(for: location, settings: settings(endpoint: endpoint, overrides),
                                               environment: ["AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"])
        return try XCTUnwrap(store as? S3Store)
    }

    /// Deletes everything under the store's prefix.
    static func empty(_ store: ObjectStore) {
        for object in (try? store.listAll()) ?? [] { try? store.delete(object.key) }
    }

    /// Reads an object with curl's own SigV4 implementation: a reader we did not write.
    static func curlGet(_ store: S3Store, _ key: String) throws -> Data {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("curl-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let encoded = SigV4Signer.uriEncode(store.prefix + key, keepSlash: true)
        let result = try TestSupport.run("/usr/bin/curl", [
            "-s", "-f", "-o", out.path, "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
            "--aws-sigv4", "aws:amz:us-east-1:s3", "--user", "\(accessKey):\(secretKey)",
            "\(store.settings.endpoint.absoluteString)/\(store.bucket)/\(encoded)",
        ])
        guard result.status == 0 else { throw TestSupportError.commandFailed("curl exited \(result.status): \(result.stderr)") }
        return try Data(contentsOf: out)
    }
}

/// Deterministic, non-repeating test bytes (a different pattern per seed).
func testBytes(_ count: Int, seed: UInt64 = 1) -> Data {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    var data = Data(count: count)
    data.withUnsafeMutableBytes { raw in
        let words = raw.bindMemory(to: UInt64.self)
        for i in 0..<words.count {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            words[i] = state
        }
        for i in (words.count * 8)..<count { raw[i] = UInt8(truncatingIfNeeded: i) }
    }
    return data
}
