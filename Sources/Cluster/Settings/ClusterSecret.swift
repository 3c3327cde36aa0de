import Foundation

/// The shared secret that authenticates cluster connections. Its bytes never appear in
/// `description`, so it cannot leak into logs.
public struct ClusterSecret: Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// The environment variable read by `resolve`.
    public static let environmentVariable = "SEXTANT_AUTH_SECRET"

    public init(_ text: String) { self.bytes = Array(text.utf8) }
    public init(bytes: [UInt8]) { self.bytes = bytes }

    public var description: String { "ClusterSecret(\(bytes.count) bytes)" }

    /// Finds the secret, first found wins: the file `sextant.authenticate.secretFile` names,
    /// the environment variable SEXTANT_AUTH_SECRET, then `sextant.authenticate.secret`.
    /// A file or variable keeps the secret out of `ps`. Returns nil when none is set.
    public static func resolve(file: String?, value: String?,
                               environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> ClusterSecret? {
        if let file, !file.isEmpty {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw ClusterError.secretUnreadable(file, reason: error.localizedDescription)
            }
            let secret = text.trimmingCharacters(in: .newlines)
            guard !secret.isEmpty else { throw ClusterError.secretUnreadable(file, reason: "the file is empty") }
            return ClusterSecret(secret)
        }
        if let env = environment[environmentVariable], !env.isEmpty { return ClusterSecret(env) }
        if let value, !value.isEmpty { return ClusterSecret(value) }
        return nil
    }
}
