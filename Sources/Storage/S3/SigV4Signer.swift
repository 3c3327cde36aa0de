import Foundation
import Hashing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// AWS Signature Version 4, in the Authorization header.
///
/// The caller gives the request as it will be sent: the URI path already percent-encoded the
/// way it appears on the wire, the raw (not encoded) query parameters, the headers to sign
/// and the payload hash. S3 wants single encoding of the path, which is what we send.
public struct SigV4Signer: Sendable {
    public var credentials: S3Credentials
    public var region: String
    public var service: String

    public init(credentials: S3Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    public struct Request: Sendable {
        public var method: String
        /// The encoded URI path, starting with "/".
        public var path: String
        /// Raw query parameters (encoded while signing).
        public var query: [(String, String)]
        /// Headers to sign (names in any case).
        public var headers: [(String, String)]
        /// Hex SHA-256 of the body, or "UNSIGNED-PAYLOAD".
        public var payloadHash: String

        public init(method: String, path: String, query: [(String, String)] = [],
                    headers: [(String, String)], payloadHash: String) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.payloadHash = payloadHash
        }
    }

    /// Adds x-amz-date (and x-amz-security-token when there is one) to the request's headers
    /// and returns the Authorization header value.
    public func sign(_ request: inout Request, at date: Date) -> String {
        request.headers.append(("x-amz-date", SigV4Signer.timestamp(date)))
        if let token = credentials.sessionToken { request.headers.append(("x-amz-security-token", token)) }
        return authorization(for: request, at: date)
    }

    /// The Authorization header value for a request that already carries its x-amz-date header.
    public func authorization(for request: Request, at date: Date) -> String {
        let canonical = canonicalRequest(request)
        let signature = Digest.hmacSHA256(key: signingKey(day: SigV4Signer.day(date)),
                                          data: Array(stringToSign(canonicalRequest: canonical, at: date).utf8)).hexString
        return "AWS4-HMAC-SHA256 Credential=\(credentials.accessKey)/\(scope(date)), "
            + "SignedHeaders=\(signedHeaders(request)), Signature=\(signature)"
    }

    public func canonicalRequest(_ request: Request) -> String {
        let headers = canonicalHeaders(request)
        return [
            request.method,
            request.path.isEmpty ? "/" : request.path,
            SigV4Signer.canonicalQuery(request.query),
            headers.map { "\($0.0):\($0.1)\n" }.joined(),
            headers.map(\.0).joined(separator: ";"),
            request.payloadHash,
        ].joined(separator: "\n")
    }

    public func stringToSign(canonicalRequest: String, at date: Date) -> String {
        ["AWS4-HMAC-SHA256", SigV4Signer.timestamp(date), scope(date),
         Digest.sha256(Array(canonicalRequest.utf8)).hexString].joined(separator: "\n")
    }

    func scope(_ date: Date) -> String { "\(SigV4Signer.day(date))/\(region)/\(service)/aws4_request" }

    func signingKey(day: String) -> [UInt8] {
        var key = Digest.hmacSHA256(key: Array("AWS4\(credentials.secretKey)".utf8), data: Array(day.utf8))
        for part in [region, service, "aws4_request"] { key = Digest.hmacSHA256(key: key, data: Array(part.utf8)) }
        return key
    }

    /// Lower-cased names, values trimmed with inner runs of spaces collapsed, repeated names
    /// joined with commas, sorted by name.
    func canonicalHeaders(_ request: Request) -> [(String, String)] {
        var merged: [String: [String]] = [:]
        for (name, value) in request.headers {
            let collapsed = value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
            merged[name.lowercased(), default: []].append(collapsed)
        }
        return merged.keys.sorted().map { ($0, merged[$0]!.joined(separator: ",")) }
    }

    func signedHeaders(_ request: Request) -> String {
        canonicalHeaders(request).map(\.0).joined(separator: ";")
    }

    static func canonicalQuery(_ query: [(String, String)]) -> String {
        let encoded: [(name: String, value: String)] = query.map { pair in
            (uriEncode(pair.0, keepSlash: false), uriEncode(pair.1, keepSlash: false))
        }
        let sorted = encoded.sorted { a, b in a.name == b.name ? a.value < b.value : a.name < b.name }
        return sorted.map { $0.name + "=" + $0.value }.joined(separator: "&")
    }

    /// RFC 3986 encoding as SigV4 defines it: everything but A-Z a-z 0-9 - . _ ~ (and "/" in paths).
    public static func uriEncode(_ text: String, keepSlash: Bool) -> String {
        var out = ""
        for byte in text.utf8 {
            if unreserved.contains(byte) || (keepSlash && byte == slash) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    private static let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)
    private static let slash = UInt8(ascii: "/")

    /// 20150830T123600Z
    public static func timestamp(_ date: Date) -> String { format(date, "%Y%m%dT%H%M%SZ") }

    /// 20150830
    static func day(_ date: Date) -> String { format(date, "%Y%m%d") }

    private static func format(_ date: Date, _ pattern: String) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let count = strftime(&buffer, buffer.count, pattern, &parts)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// SHA-256 of the empty string: the payload hash of GET, HEAD and DELETE.
    public static let emptyPayloadHash = Digest.sha256([UInt8]()).hexString
}
