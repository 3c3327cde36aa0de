import Foundation

/// The S3 server scripts/test starts for the suite (SeaweedFS, credentials enforced), as its
/// SEXTANT_TEST_S3_* variables describe it.
public struct TestS3Server: Sendable {
    public let endpoint: String, accessKey: String, secretKey: String, bucket: String

    /// The running one; nil when the suite was started without it (tests then skip with `unavailable`).
    public static var running: TestS3Server? {
        let env = ProcessInfo.processInfo.environment
        guard let endpoint = env["SEXTANT_TEST_S3_ENDPOINT"], let access = env["SEXTANT_TEST_S3_ACCESS_KEY"],
              let secret = env["SEXTANT_TEST_S3_SECRET_KEY"], let bucket = env["SEXTANT_TEST_S3_BUCKET"] else { return nil }
        return TestS3Server(endpoint: endpoint, accessKey: access, secretKey: secret, bucket: bucket)
    }

    public static let unavailable = "no S3 server: run the suite with scripts/test, which starts SeaweedFS"

    /// Configuration keys that reach it, plus `extra`.
    public func settings(_ extra: [String: String] = [:]) -> [String: String] {
        ["sextant.s3.endpoint": endpoint, "sextant.s3.accessKey": accessKey, "sextant.s3.secretKey": secretKey]
            .merging(extra) { _, new in new }
    }
}
