import Foundation
import Hashing

/// A user's API token: the client role's credential for the principal `user:NAME:GENERATION`,
/// derived from the cluster secret like every other key (docs/SECURITY.md), written as
/// `sextant-user-v1:NAME:GENERATION:<64 hex>`. The master recomputes the key from its secret, so
/// it stores only the name, the generation (bumping it revokes every earlier token) and a SHA-256
/// of the token, for listing. The same text works as `sextant.authenticate.secretFile` (the wire)
/// and as `Authorization: Bearer` (the REST API and the portal).
public struct UserToken: Sendable, Equatable, CustomStringConvertible {
    public static let prefix = "sextant-user-v1:"
    public let name: String
    public let generation: Int
    let key: [UInt8]

    init(name: String, generation: Int, key: [UInt8]) {
        self.name = name
        self.generation = generation
        self.key = key
    }

    /// Nil unless `text` is a well-formed token.
    public init?(text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix(Self.prefix) else { return nil }
        let parts = trimmed.dropFirst(Self.prefix.count).split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, Self.isValidName(String(parts[0])), let generation = Int(parts[1]), generation > 0,
              parts[2].count == 64, let key = Self.hexBytes(parts[2]) else { return nil }
        self.init(name: String(parts[0]), generation: generation, key: key)
    }

    static func principal(name: String, generation: Int) -> String { "user:\(name):\(generation)" }
    public var principal: String { Self.principal(name: name, generation: generation) }

    /// The token's text: give it to its user only (a mode-600 file).
    public var text: String { Self.prefix + "\(name):\(generation):" + key.hexString }

    /// What the users file keeps to tell tokens apart when listing: never enough to use one.
    public var fingerprint: String { Digest.sha256(Array(text.utf8)).hexString }

    public var description: String { "UserToken(\(principal))" }

    /// Letters, digits, '.', '_' and '-', 1 to 64 characters, not starting with '-' or '.'.
    public static func isValidName(_ name: String) -> Bool {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        return !name.isEmpty && name.count <= 64 && name.allSatisfy(allowed.contains)
            && name.first != "-" && name.first != "."
    }

    static func hexBytes(_ text: Substring) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index...index + 1], as: UTF8.self), radix: 16) else { return nil }
            out.append(byte)
        }
        return out
    }
}
