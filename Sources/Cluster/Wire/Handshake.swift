import Foundation
import Hashing

/// Challenge-response authentication and version agreement, the first exchange on every connection:
///
///     master -> peer   serverHello(version, build id, server nonce)
///     peer -> master   clientHello(version, build id, role, client nonce,
///                                  proof = HMAC(K, server nonce || role || client nonce))
///     master -> peer   welcome(proof = HMAC(K, client nonce || "master" || server nonce))
///                      or refused(reason)
///
/// K is the role's key (`ClusterSecret.key(for:)`): derived from the cluster secret, so a peer
/// given only the executor credential can prove nothing as a client. Both nonces are fresh
/// random bytes per connection, so a recorded transcript replayed on a new connection fails;
/// each side verifies the other. Every later frame carries a MAC under `SessionKeys`.
enum Handshake {
    static let nonceBytes = 32

    /// The user a principal names, for messages (never the token).
    static func userName(_ principal: String) -> String {
        let parts = principal.split(separator: ":")
        return parts.count == 3 ? "user \(parts[1].prefix(64))" : "a malformed principal"
    }

    static func freshNonce() -> Data { Data(Digest.randomBytes(nonceBytes)) }

    static func clientProof(key: [UInt8], serverNonce: Data, role: PeerRole, clientNonce: Data) -> Data {
        Data(Digest.hmacSHA256(key: key, data: serverNonce + Data(role.rawValue.utf8) + clientNonce))
    }

    static func serverProof(key: [UInt8], clientNonce: Data, serverNonce: Data) -> Data {
        Data(Digest.hmacSHA256(key: key, data: clientNonce + Data("master".utf8) + serverNonce))
    }

    static func matches(_ proof: Data?, _ expected: Data) -> Bool {
        guard let proof else { return false }
        return Digest.constantTimeEqual(Array(proof), Array(expected))
    }

    /// The master's verdict on a peer's hello: nil to accept, else the reason told to both sides.
    /// A hello naming a principal is checked under that principal's key (`principalKey`: nil when the
    /// master knows no such user or generation); only clients have principals.
    static func refusal(of hello: ClientHello, serverNonce: Data, buildID: String,
                        secret: ClusterSecret?, principalKey: (String) -> [UInt8]? = { _ in nil }) -> String? {
        if hello.protocolVersion != WireFormat.protocolVersion {
            return "protocol version mismatch: master speaks \(WireFormat.protocolVersion) (build \(buildID)), "
                + "\(hello.role.rawValue) speaks \(hello.protocolVersion) (build \(hello.buildID))"
        }
        if hello.buildID != buildID {
            return "build id mismatch: master is build \(buildID), \(hello.role.rawValue) is build \(hello.buildID); "
                + "run the same sextant binary everywhere"
        }
        guard let secret else { return nil }
        guard hello.nonce.count == nonceBytes else { return "authentication failed: malformed nonce" }
        guard hello.proof != nil else {
            return "authentication required: the master has a secret and the \(hello.role.rawValue) sent none "
                + "(set \(ClusterSecret.environmentVariable) or sextant.authenticate.secretFile)"
        }
        let key: [UInt8]
        if let principal = hello.principal {
            guard hello.role == .client else { return "authentication failed: only clients have user tokens" }
            guard let userKey = principalKey(principal) else {
                return "authentication failed: unknown or revoked user token (\(Self.userName(principal)))"
            }
            key = userKey
        } else {
            guard let roleKey = secret.key(for: hello.role) else { return "authentication failed: the master holds no key" }
            key = roleKey
        }
        let expected = clientProof(key: key, serverNonce: serverNonce, role: hello.role, clientNonce: hello.nonce)
        return matches(hello.proof, expected) ? nil
            : "authentication failed: wrong secret (or a credential for another role than \(hello.role.rawValue))"
    }
}
