/// Access key, secret and optional session token.
public struct S3Credentials: Equatable, Sendable, CustomStringConvertible {
    public var accessKey: String
    public var secretKey: String
    public var sessionToken: String?
    /// Where they came from (environment, profile file, conf), for messages; never the secret.
    public var source: String

    public init(accessKey: String, secretKey: String, sessionToken: String? = nil, source: String = "explicit") {
        self.accessKey = accessKey
        self.secretKey = secretKey
        self.sessionToken = sessionToken
        self.source = source
    }

    public var description: String { "access key \(accessKey) from \(source)" }
}
