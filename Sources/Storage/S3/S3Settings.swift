import Foundation

/// How to reach and talk to an S3-compatible store, read from `sextant.s3.*` conf keys.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `sextant.s3.endpoint` | `$AWS_ENDPOINT_URL_S3`, `$AWS_ENDPOINT_URL`, `https://s3.<region>.amazonaws.com` | service URL, http or https |
/// | `sextant.s3.region` | `$AWS_REGION`, `$AWS_DEFAULT_REGION`, `us-east-1` | signing region |
/// | `sextant.s3.pathStyle` | `true` with a custom endpoint, else `false` | `endpoint/bucket/key` instead of `bucket.endpoint/key` |
/// | `sextant.s3.accessKey`, `sextant.s3.secretKey`, `sextant.s3.sessionToken` | — | credentials, used when the environment and the AWS profile file give none |
/// | `sextant.s3.profile` | `$AWS_PROFILE`, `default` | profile in the shared credentials file |
/// | `sextant.s3.multipartThreshold` | `64m` | objects at least this large go up in parts |
/// | `sextant.s3.partSize` | `16m` | part size (S3's minimum is 5m) |
/// | `sextant.s3.uploadConcurrency` | `4` | parts of one multipart upload in flight at once |
/// | `sextant.s3.maxRetries` | `5` | retries after the first attempt, on 5xx, SlowDown, timeouts, dropped connections, clock skew |
/// | `sextant.s3.retryBaseDelay` | `0.1` | seconds; backoff is random in [0, min(maxDelay, base * 2^attempt)] |
/// | `sextant.s3.retryMaxDelay` | `5` | seconds |
/// | `sextant.s3.timeout` | `60` | seconds without progress before a request is abandoned (and retried) |
/// | `sextant.s3.listPageSize` | `1000` | keys per ListObjectsV2 page |
///
/// Sizes accept a k, m or g suffix (powers of 1024).
public struct S3Settings: Equatable, Sendable {
    public var endpoint: URL
    public var region: String
    public var pathStyle: Bool
    public var profile: String
    public var multipartThreshold: Int
    public var partSize: Int
    public var uploadConcurrency: Int
    public var maxRetries: Int
    public var retryBaseDelay: Double
    public var retryMaxDelay: Double
    public var timeout: Double
    public var listPageSize: Int
    /// The conf's credentials, if any (the last resort of the credential chain).
    public var confCredentials: S3Credentials?
    /// `sextant.s3.instanceProfile`: when nothing else gives credentials, ask the EC2 instance
    /// metadata service (IMDSv2) for the instance role's. Off unless asked, so no process ever
    /// calls 169.254.169.254 by surprise.
    public var useInstanceProfile: Bool
    /// `sextant.s3.metadataEndpoint`: the metadata service (default http://169.254.169.254).
    public var metadataEndpoint: URL

    public static let keyPrefix = "sextant.s3."

    /// Reads the `sextant.s3.*` keys of `settings`; `environment` supplies AWS_REGION and AWS_PROFILE.
    public init(settings: [String: String], environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        func value(_ key: String) -> String? {
            settings[S3Settings.keyPrefix + key].map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        func invalid(_ key: String, _ why: String) -> StorageError {
            StorageError(.invalidArgument, location: S3Settings.keyPrefix + key, message: why)
        }
        func number<T>(_ key: String, _ parse: (String) -> T?, default fallback: T, _ valid: (T) -> Bool) throws -> T {
            guard let text = value(key) else { return fallback }
            guard let parsed = parse(text), valid(parsed) else { throw invalid(key, "'\(text)' is not a valid value") }
            return parsed
        }

        region = value("region") ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
        let endpointText = value("endpoint") ?? environment["AWS_ENDPOINT_URL_S3"] ?? environment["AWS_ENDPOINT_URL"]
        if let text = endpointText, !text.isEmpty {
            guard let url = URL(string: text), let scheme = url.scheme?.lowercased(),
                  scheme == "http" || scheme == "https", url.host != nil else {
                throw invalid("endpoint", "'\(text)' is not an http:// or https:// URL")
            }
            endpoint = url
        } else {
            endpoint = URL(string: "https://s3.\(region).amazonaws.com")!
        }
        let customEndpoint = endpointText.map { !$0.isEmpty } ?? false
        pathStyle = try number("pathStyle", S3Settings.parseBool, default: customEndpoint) { _ in true }
        profile = value("profile") ?? environment["AWS_PROFILE"] ?? "default"
        multipartThreshold = try number("multipartThreshold", S3Settings.parseSize, default: 64 << 20) { $0 >= 1 }
        partSize = try number("partSize", S3Settings.parseSize, default: 16 << 20) { $0 >= 5 << 20 && $0 <= 5 << 30 }
        uploadConcurrency = try number("uploadConcurrency", { Int($0) }, default: 4) { $0 >= 1 && $0 <= 64 }
        maxRetries = try number("maxRetries", { Int($0) }, default: 5) { $0 >= 0 && $0 <= 100 }
        retryBaseDelay = try number("retryBaseDelay", { Double($0) }, default: 0.1) { $0 >= 0 }
        retryMaxDelay = try number("retryMaxDelay", { Double($0) }, default: 5) { $0 >= 0 }
        timeout = try number("timeout", { Double($0) }, default: 60) { $0 > 0 }
        listPageSize = try number("listPageSize", { Int($0) }, default: 1000) { $0 >= 1 && $0 <= 1000 }

        useInstanceProfile = try number("instanceProfile", S3Settings.parseBool, default: false) { _ in true }
        let metadataText = value("metadataEndpoint") ?? "http://169.254.169.254"
        guard let metadataURL = URL(string: metadataText), metadataURL.host != nil else {
            throw invalid("metadataEndpoint", "'\(metadataText)' is not a URL")
        }
        metadataEndpoint = metadataURL

        switch (value("accessKey"), value("secretKey")) {
        case let (access?, secret?):
            confCredentials = S3Credentials(accessKey: access, secretKey: secret, sessionToken: value("sessionToken"),
                                            source: "conf keys sextant.s3.accessKey/secretKey")
        case (nil, nil):
            confCredentials = nil
        default:
            throw invalid("accessKey", "sextant.s3.accessKey and sextant.s3.secretKey must be given together")
        }
    }

    static func parseBool(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "yes", "1", "on": return true
        case "false", "no", "0", "off": return false
        default: return nil
        }
    }

    /// "5242880", "5m", "64M", "1g", "512k", "16MB", "16MiB".
    static func parseSize(_ text: String) -> Int? {
        var digits = text.lowercased()
        for suffix in ["ib", "b"] where digits.hasSuffix(suffix) && digits.count > suffix.count {
            digits.removeLast(suffix.count)
            break
        }
        let shifts: [Character: Int] = ["k": 10, "m": 20, "g": 30]
        var shift = 0
        if let last = digits.last, let s = shifts[last] {
            shift = s
            digits.removeLast()
        }
        guard let n = Int(digits), n >= 0, n < (1 << (62 - shift)) else { return nil }
        return n << shift
    }
}
