import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The EC2 instance metadata service, version 2 (a session token first, then the role's
/// temporary credentials), so nodes read S3 with their instance role and no key sits on disk.
struct InstanceMetadata {
    let endpoint: URL

    private struct RoleCredentials: Decodable {
        var AccessKeyId: String
        var SecretAccessKey: String
        var Token: String?
    }

    func roleCredentials(location: String) throws -> S3Credentials {
        let token = try text("PUT", "/latest/api/token", headers: ["X-aws-ec2-metadata-token-ttl-seconds": "21600"],
                             location: location)
        let tokenHeader = ["X-aws-ec2-metadata-token": token]
        // No role: the service answers 404 (or an empty list).
        let roles = try text("GET", "/latest/meta-data/iam/security-credentials/", headers: tokenHeader,
                             location: location, notFoundIsEmpty: true)
        guard let role = roles.split(whereSeparator: \.isNewline).first.map(String.init), !role.isEmpty else {
            throw StorageError(.accessDenied, location: location, message: "the instance has no IAM role (instance profile)")
        }
        let json = try text("GET", "/latest/meta-data/iam/security-credentials/\(role)", headers: tokenHeader,
                            location: location)
        guard let credentials = try? JSONDecoder().decode(RoleCredentials.self, from: Data(json.utf8)) else {
            throw StorageError(.service, location: location, message: "unreadable instance role credentials for \(role)")
        }
        return S3Credentials(accessKey: credentials.AccessKeyId, secretKey: credentials.SecretAccessKey,
                             sessionToken: credentials.Token.flatMap { $0.isEmpty ? nil : $0 },
                             source: "instance role \(role)")
    }

    /// One request with a short timeout: the metadata service answers at once or not at all.
    private func text(_ method: String, _ path: String, headers: [String: String], location: String,
                      notFoundIsEmpty: Bool = false) throws -> String {
        var request = URLRequest(url: endpoint.appendingPathComponent(path), timeoutInterval: 2)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let response: HTTPResponse
        do {
            response = try Self.client.send(request)
        } catch {
            throw StorageError(.transport, location: location,
                               message: "instance metadata at \(endpoint.absoluteString): \(error.localizedDescription)")
        }
        if response.status == 404 && notFoundIsEmpty { return "" }
        guard response.status == 200 else {
            throw StorageError(.accessDenied, location: location,
                               message: "instance metadata \(path) answered HTTP \(response.status)")
        }
        return String(decoding: response.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The metadata service answers at once or not at all: a short timeout.
    private static let client = BlockingHTTPClient(timeout: 2, maxConnections: 2)
}
