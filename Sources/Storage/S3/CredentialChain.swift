import Foundation

/// Finds S3 credentials the way the AWS CLI does, then falls back to the conf:
/// 1. `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`) in the environment;
/// 2. the profile `AWS_PROFILE` (or `sextant.s3.profile`, else `default`) in the shared credentials
///    file, `AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`;
/// 3. `sextant.s3.accessKey` / `sextant.s3.secretKey` / `sextant.s3.sessionToken`;
/// 4. with `sextant.s3.instanceProfile`, the EC2 instance role's, from the metadata service.
public enum CredentialChain {
    public static func resolve(settings: S3Settings,
                               environment: [String: String] = ProcessInfo.processInfo.environment,
                               location: String) throws -> S3Credentials {
        if let access = nonEmpty(environment["AWS_ACCESS_KEY_ID"]),
           let secret = nonEmpty(environment["AWS_SECRET_ACCESS_KEY"]) {
            return S3Credentials(accessKey: access, secretKey: secret,
                                 sessionToken: nonEmpty(environment["AWS_SESSION_TOKEN"]),
                                 source: "environment (AWS_ACCESS_KEY_ID)")
        }
        let file = nonEmpty(environment["AWS_SHARED_CREDENTIALS_FILE"])
            ?? (nonEmpty(environment["HOME"]) ?? NSHomeDirectory()) + "/.aws/credentials"
        if let text = try? String(contentsOfFile: file, encoding: .utf8),
           let profile = parseProfiles(text)[settings.profile],
           let access = nonEmpty(profile["aws_access_key_id"]),
           let secret = nonEmpty(profile["aws_secret_access_key"]) {
            return S3Credentials(accessKey: access, secretKey: secret,
                                 sessionToken: nonEmpty(profile["aws_session_token"]),
                                 source: "profile '\(settings.profile)' in \(file)")
        }
        if let conf = settings.confCredentials { return conf }
        if settings.useInstanceProfile {
            return try InstanceMetadata(endpoint: settings.metadataEndpoint).roleCredentials(location: location)
        }
        throw StorageError(.accessDenied, location: location,
                           message: "no S3 credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
                               + "a profile '\(settings.profile)' in \(file), sextant.s3.accessKey/secretKey, "
                               + "or sextant.s3.instanceProfile=true on EC2")
    }

    /// `[profile]` sections of an INI file, keys lower-cased; `#` and `;` start comments.
    static func parseProfiles(_ text: String) -> [String: [String: String]] {
        var profiles: [String: [String: String]] = [:]
        var current: String?
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                var name = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                if name.hasPrefix("profile ") { name = String(name.dropFirst(8)).trimmingCharacters(in: .whitespaces) }
                current = name
                profiles[name, default: [:]] = profiles[name, default: [:]]
            } else if let name = current, let equals = line.firstIndex(of: "=") {
                let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
                let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
                profiles[name]![key] = value
            }
        }
        return profiles
    }

    private static func nonEmpty(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return text
    }
}
