import Foundation
import Settings

/// How to reach and talk to an S3-compatible store, read from the `sextant.s3.*` keys
/// (declared, with their defaults and meaning, in Settings' `StorageKeys`).
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
        let c = Configuration(settings)
        /// A string key's value, blank counting as unset.
        func text(_ key: ConfigKey<String?>) throws -> String? {
            try c.value(of: key).map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        func invalid(_ key: ConfigKey<String?>, _ value: String, _ expected: String) -> ConfigurationError {
            .badValue(key: key.name, value: value, expected: expected)
        }

        region = try text(StorageKeys.s3Region) ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
        let endpointText = try text(StorageKeys.s3Endpoint) ?? environment["AWS_ENDPOINT_URL_S3"] ?? environment["AWS_ENDPOINT_URL"]
        if let text = endpointText, !text.isEmpty {
            guard let url = URL(string: text), let scheme = url.scheme?.lowercased(),
                  scheme == "http" || scheme == "https", url.host != nil else {
                throw invalid(StorageKeys.s3Endpoint, text, "an http:// or https:// URL")
            }
            endpoint = url
        } else {
            endpoint = URL(string: "https://s3.\(region).amazonaws.com")!
        }
        let customEndpoint = endpointText.map { !$0.isEmpty } ?? false
        pathStyle = try c.value(of: StorageKeys.s3PathStyle) ?? customEndpoint
        profile = try text(StorageKeys.s3Profile) ?? environment["AWS_PROFILE"] ?? "default"
        multipartThreshold = Int(try c.value(of: StorageKeys.s3MultipartThreshold))
        partSize = Int(try c.value(of: StorageKeys.s3PartSize))
        uploadConcurrency = try c.value(of: StorageKeys.s3UploadConcurrency)
        maxRetries = try c.value(of: StorageKeys.s3MaxRetries)
        retryBaseDelay = try c.value(of: StorageKeys.s3RetryBaseDelay)
        retryMaxDelay = try c.value(of: StorageKeys.s3RetryMaxDelay)
        timeout = try c.value(of: StorageKeys.s3Timeout)
        listPageSize = try c.value(of: StorageKeys.s3ListPageSize)

        useInstanceProfile = try c.value(of: StorageKeys.s3InstanceProfile)
        let metadataText = try c.value(of: StorageKeys.s3MetadataEndpoint).trimmingCharacters(in: .whitespaces)
        guard let metadataURL = URL(string: metadataText), metadataURL.host != nil else {
            throw ConfigurationError.badValue(key: StorageKeys.s3MetadataEndpoint.name, value: metadataText, expected: "a URL")
        }
        metadataEndpoint = metadataURL

        switch (try text(StorageKeys.s3AccessKey), try text(StorageKeys.s3SecretKey)) {
        case let (access?, secret?):
            confCredentials = S3Credentials(accessKey: access, secretKey: secret,
                                            sessionToken: try text(StorageKeys.s3SessionToken),
                                            source: "conf keys sextant.s3.accessKey/secretKey")
        case (nil, nil):
            confCredentials = nil
        default:
            throw invalid(StorageKeys.s3AccessKey, "(secret)", "given together with sextant.s3.secretKey")
        }
    }
}
