import Foundation
import Hashing

/// What a process proves it holds at the handshake: the cluster's shared secret (the master's;
/// it may act in any role), or one role's credential derived from it (an executor's cannot
/// submit jobs, a client's cannot register as an executor). Its bytes never appear in
/// `description`, so it cannot leak into logs.
///
/// Every role's key is `HMAC-SHA256(secret, "sextant-credential-v1\n" + role + "\n" + principal)`,
/// so the master holds one secret and derives every key; the principal is empty for the roles'
/// shared credentials and names a user for per-user tokens (see docs/SECURITY.md).
public struct ClusterSecret: Sendable, CustomStringConvertible {
    public let bytes: [UInt8]
    /// Nil: the cluster secret. A role: only that role's derived key.
    public let scope: PeerRole?
    /// Set for a user's token (`sextant users add`): the principal, `user:NAME:GENERATION`, that the
    /// hello carries so the master can derive the same key.
    public let principal: String?

    /// The environment variable read by `resolve`.
    public static let environmentVariable = "SEXTANT_AUTH_SECRET"
    /// Shorter secrets are refused: a guessable secret authenticates nothing.
    public static let minimumBytes = 16
    /// A role credential's text: this prefix, the role, a colon, 64 hex digits.
    static let credentialPrefix = "sextant-credential-v1:"

    public init(_ text: String) {
        if let token = UserToken(text: text) {
            self.bytes = token.key
            self.scope = .client
            self.principal = token.principal
        } else if let (role, key) = Self.parseCredential(text) {
            self.bytes = key
            self.scope = role
            self.principal = nil
        } else {
            self.bytes = Array(text.utf8)
            self.scope = nil
            self.principal = nil
        }
    }

    public init(bytes: [UInt8], scope: PeerRole? = nil, principal: String? = nil) {
        self.bytes = bytes
        self.scope = scope
        self.principal = principal
    }

    public var description: String {
        if let principal { return "ClusterSecret(token of \(principal))" }
        return scope.map { "ClusterSecret(\($0.rawValue) credential)" } ?? "ClusterSecret(\(bytes.count) bytes)"
    }

    /// The key this holder proves it has when it connects as `role`; nil when it may not take that role.
    /// A user's token proves its own principal's key (the hello names the principal).
    func key(for role: PeerRole, principal: String = "") -> [UInt8]? {
        guard let scope else { return Self.derive(bytes, role: role, principal: principal) }
        return scope == role && principal == (self.principal ?? "") ? bytes : nil
    }

    /// The text of `role`'s credential, for a file given to processes of that role only.
    /// Only the cluster secret can issue credentials.
    public func credential(for role: PeerRole) -> String? {
        guard scope == nil, let key = key(for: role) else { return nil }
        return Self.credentialPrefix + role.rawValue + ":" + key.hexString
    }

    /// A user's token, issued from the cluster secret (see `UserToken`).
    public func token(forUser name: String, generation: Int) -> UserToken? {
        guard scope == nil else { return nil }
        let principal = UserToken.principal(name: name, generation: generation)
        return UserToken(name: name, generation: generation,
                         key: Self.derive(bytes, role: .client, principal: principal))
    }

    static func derive(_ secret: [UInt8], role: PeerRole, principal: String) -> [UInt8] {
        Digest.hmacSHA256(key: secret, data: Array("sextant-credential-v1\n\(role.rawValue)\n\(principal)".utf8))
    }

    private static func parseCredential(_ text: String) -> (PeerRole, [UInt8])? {
        guard text.hasPrefix(credentialPrefix) else { return nil }
        let parts = text.dropFirst(credentialPrefix.count).split(separator: ":")
        guard parts.count == 2, let role = PeerRole(rawValue: String(parts[0])),
              let key = UserToken.hexBytes(parts[1]), key.count == 32 else { return nil }
        return (role, key)
    }

    /// Finds the secret or credential: the file `sextant.authenticate.secretFile` names, else the
    /// environment variable SEXTANT_AUTH_SECRET. Never a command-line value (where `ps` shows it):
    /// `sextant.authenticate.secret` is refused. Returns nil when none is set.
    public static func resolve(file: String?, value: String? = nil,
                               environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> ClusterSecret? {
        if let value, !value.isEmpty { throw ClusterError.secretOnCommandLine }
        let secret: ClusterSecret
        if let file, !file.isEmpty {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw ClusterError.secretUnreadable(file, reason: error.localizedDescription)
            }
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { throw ClusterError.secretUnreadable(file, reason: "the file is empty") }
            secret = ClusterSecret(trimmed)
            guard secret.scope != nil || secret.bytes.count >= minimumBytes else {
                throw ClusterError.secretTooShort("the secret in \(file)")
            }
        } else if let env = environment[environmentVariable], !env.isEmpty {
            secret = ClusterSecret(env)
            guard secret.scope != nil || secret.bytes.count >= minimumBytes else {
                throw ClusterError.secretTooShort(environmentVariable)
            }
        } else {
            return nil
        }
        return secret
    }
}
