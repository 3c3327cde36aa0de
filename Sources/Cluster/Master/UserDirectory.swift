import Foundation
import Hashing

/// The users the master issues tokens to, kept in `sextant.master.usersFile` (default
/// `users.list` in the history directory), one line each:
///
///     NAME GENERATION user|admin SHA256-OF-TOKEN
///
/// Never a key: the master derives each user's key from its secret and the principal
/// (`UserToken`). `sextant users` edits the file; a running master rereads it when it changes,
/// so a user added or revoked takes effect at the next connection or request.
/// @unchecked: `lock` guards `users` and `loadedStamp`.
public final class UserDirectory: @unchecked Sendable {
    public struct User: Sendable, Equatable {
        public var name: String
        public var generation: Int
        public var isAdmin: Bool
        public var fingerprint: String
    }

    public let file: URL
    private let lock = NSLock()
    private var users: [String: User] = [:]
    private var loadedStamp: Date?

    public init(file: URL) {
        self.file = file
    }

    /// Every user, by name (rereading the file if it changed).
    public func all() throws -> [User] {
        try lock.withLock {
            try reloadIfChanged()
            return users.values.sorted { $0.name < $1.name }
        }
    }

    /// The principal a token (wire: its principal text; web: the whole token) stands for, when
    /// its user exists at that generation. Nil for unknown or revoked tokens.
    func principal(named principal: String) -> Principal? {
        let parts = principal.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "user", let generation = Int(parts[2]) else { return nil }
        guard let user = (try? lock.withLock { () -> User? in
            try reloadIfChanged()
            return users[String(parts[1])]
        }) ?? nil, user.generation == generation else { return nil }
        return Principal(name: user.name, isAdmin: user.isAdmin)
    }

    /// Checks a token presented whole (the REST API's bearer) against `secret`.
    public func authenticate(token text: String, secret: ClusterSecret) -> Principal? {
        guard let token = UserToken(text: text), let principal = principal(named: token.principal),
              let expected = secret.token(forUser: token.name, generation: token.generation),
              Digest.constantTimeEqual(expected.key, token.key) else { return nil }
        return principal
    }

    /// Adds `name` (or, with `rotate`, replaces its token: every earlier one stops working) and
    /// returns the new token. Only the cluster secret can issue tokens.
    public func issue(_ name: String, admin: Bool, rotate: Bool, secret: ClusterSecret) throws -> UserToken {
        guard UserToken.isValidName(name) else {
            throw UserError("invalid user name '\(name)': 1-64 letters, digits, '.', '_' or '-', not starting with '.' or '-'")
        }
        return try lock.withLock {
            try reloadIfChanged()
            let existing = users[name]
            if existing != nil && !rotate { throw UserError("user '\(name)' exists; `sextant users rotate \(name)` issues a new token") }
            if existing == nil && rotate { throw UserError("no user '\(name)'") }
            let generation = (existing?.generation ?? 0) + 1
            guard let token = secret.token(forUser: name, generation: generation) else {
                throw UserError("issuing tokens needs the cluster secret, not a role's credential")
            }
            users[name] = User(name: name, generation: generation, isAdmin: rotate ? existing!.isAdmin : admin,
                               fingerprint: token.fingerprint)
            try save()
            return token
        }
    }

    /// Removes `name`: its token stops working at once.
    public func remove(_ name: String) throws {
        try lock.withLock {
            try reloadIfChanged()
            guard users.removeValue(forKey: name) != nil else { throw UserError("no user '\(name)'") }
            try save()
        }
    }

    // MARK: The file

    private func reloadIfChanged() throws {
        let attributes = try? FileManager.default.attributesOfItem(atPath: file.path)
        let stamp = attributes?[.modificationDate] as? Date
        guard stamp != loadedStamp || stamp == nil else { return }
        loadedStamp = stamp
        guard stamp != nil else { users = [:]; return }
        let text = try String(contentsOf: file, encoding: .utf8)
        var parsed: [String: User] = [:]
        for (number, line) in text.split(separator: "\n").enumerated() where !line.hasPrefix("#") {
            let fields = line.split(separator: " ")
            guard fields.count == 4, UserToken.isValidName(String(fields[0])), let generation = Int(fields[1]),
                  fields[2] == "user" || fields[2] == "admin" else {
                throw UserError("\(file.path): line \(number + 1) is not NAME GENERATION user|admin SHA256")
            }
            parsed[String(fields[0])] = User(name: String(fields[0]), generation: generation,
                                             isAdmin: fields[2] == "admin", fingerprint: String(fields[3]))
        }
        users = parsed
    }

    private func save() throws {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        var text = "# sextant users: NAME GENERATION user|admin SHA256-OF-TOKEN (no keys; `sextant users` edits this)\n"
        for user in users.values.sorted(by: { $0.name < $1.name }) {
            text += "\(user.name) \(user.generation) \(user.isAdmin ? "admin" : "user") \(user.fingerprint)\n"
        }
        let temporary = file.deletingLastPathComponent().appendingPathComponent(".\(file.lastPathComponent).tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: Data(text.utf8),
                                             attributes: [.posixPermissions: 0o600]) else {
            throw UserError("cannot write \(temporary.path)")
        }
        guard rename(temporary.path, file.path) == 0 else { throw UserError("cannot replace \(file.path)") }
        loadedStamp = (try? FileManager.default.attributesOfItem(atPath: file.path))?[.modificationDate] as? Date
    }
}

public struct UserError: Error, CustomStringConvertible, Equatable {
    public let description: String
    init(_ description: String) { self.description = description }
}
