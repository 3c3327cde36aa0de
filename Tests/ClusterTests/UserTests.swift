import Engine
import Foundation
import TestSupport
import XCTest
@testable import Cluster

/// Per-user tokens on the cluster's credential model: issued from the secret, stored as hashes,
/// carried in the hello as a principal; users see and cancel only their own jobs, admins all.
final class UserTests: XCTestCase {
    private static let secret = "users-test-secret-0123456789abcdef"
    private var fixture: ClusterFixture!
    private var directory: UserDirectory!
    private var tokens: [String: UserToken] = [:]

    override func setUpWithError() throws {
        let dir = try TestSupport.makeTemporaryDirectory("cluster-users")
        directory = UserDirectory(file: dir.appendingPathComponent("users.list"))
        let secret = ClusterSecret(Self.secret)
        tokens["alice"] = try directory.issue("alice", admin: false, rotate: false, secret: secret)
        tokens["bob"] = try directory.issue("bob", admin: false, rotate: false, secret: secret)
        tokens["carol"] = try directory.issue("carol", admin: true, rotate: false, secret: secret)
        fixture = ClusterFixture(network: .fast(secret: Self.secret), jobHandler: ScriptedJobHandler())
        try fixture.startMaster(usersFile: directory.file)
    }

    override func tearDown() {
        fixture?.tearDown()
    }

    private func client(_ user: String) throws -> ClusterClient {
        try fixture.client(secret: .some(tokens[user]!.text))
    }

    private func blocking() -> Data { ScriptedJobHandler.payload(.init(block: true)) }

    func testUsersSeeAndCancelOnlyTheirOwnJobsAndAdminsAll() throws {
        let alice = try client("alice"), bob = try client("bob"), carol = try client("carol")
        defer { [alice, bob, carol].forEach { $0.close() } }
        let mine = try alice.submit(blocking(), jobID: "alices")
        XCTAssertEqual(mine.user, "alice")
        _ = try bob.submit(blocking(), jobID: "bobs")

        XCTAssertEqual(try alice.status().map(\.id), ["alices"])
        XCTAssertEqual(try bob.status().map(\.id), ["bobs"])
        XCTAssertEqual(try carol.status().map(\.id).sorted(), ["alices", "bobs"], "an admin sees every job")
        // Another user's job does not exist for bob: not its status, not a wait, not a cancel.
        XCTAssertThrowsError(try bob.status(of: "alices")) { XCTAssertEqual($0 as? ClusterError, .requestFailed("no job 'alices'")) }
        XCTAssertThrowsError(try bob.cancel("alices")) { XCTAssertEqual($0 as? ClusterError, .requestFailed("no job 'alices'")) }
        XCTAssertThrowsError(try bob.wait(for: "alices", timeout: 2)) {
            XCTAssertEqual($0 as? ClusterError, .requestFailed("no job 'alices'"))
        }
        XCTAssertTrue(eventually { (try? alice.status(of: "alices").first?.status) == .running })

        _ = try alice.cancel("alices")
        XCTAssertEqual(try alice.wait(for: "alices", timeout: 10).status, .cancelled)
        _ = try carol.cancel("bobs")  // an admin cancels anyone's
        XCTAssertEqual(try bob.wait(for: "bobs", timeout: 10).status, .cancelled)
        // The shared client credential is the operator's: an admin.
        let shared = try fixture.client(secret: .some(ClusterSecret(Self.secret).credential(for: .client)!))
        defer { shared.close() }
        XCTAssertEqual(try shared.status().count, 2)
    }

    func testRevokedForgedAndMisusedTokensAreRefused() throws {
        let old = tokens["alice"]!
        let rotated = try directory.issue("alice", admin: false, rotate: true, secret: ClusterSecret(Self.secret))
        XCTAssertEqual(rotated.generation, old.generation + 1)
        assertRefused(old.text, "unknown or revoked user token (user alice)")
        let fresh = try fixture.client(secret: .some(rotated.text))
        fresh.close()

        // A token for a user the file does not list, made with another secret: refused.
        let forged = try XCTUnwrap(ClusterSecret("another-secret-0123456789abcdef").token(forUser: "alice", generation: rotated.generation))
        assertRefused(forged.text, "authentication failed: wrong secret")
        try directory.remove("bob")
        assertRefused(tokens["bob"]!.text, "unknown or revoked user token (user bob)")

        // A user's token cannot register an executor: refused before it even dials.
        XCTAssertNil(ClusterSecret(rotated.text).key(for: .executor))
        // And no token text reaches the master's logs.
        for token in [old, rotated, forged, tokens["bob"]!] {
            XCTAssertFalse(fixture.logs.all.contains { $0.contains(token.text) || $0.contains(token.key.hexString) })
        }
    }

    func testTheUsersFileKeepsHashesNeverKeysAndTokensParse() throws {
        let text = try String(contentsOf: directory.file, encoding: .utf8)
        for token in tokens.values {
            XCTAssertFalse(text.contains(token.key.hexString), "a key in the users file")
            XCTAssertTrue(text.contains("\(token.name) \(token.generation) "), text)
            XCTAssertTrue(text.contains(token.fingerprint))
            XCTAssertEqual(UserToken(text: token.text), token)
            XCTAssertEqual("\(ClusterSecret(token.text))", "ClusterSecret(token of \(token.principal))")
        }
        let mode = try FileManager.default.attributesOfItem(atPath: directory.file.path)[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o600)
        for bad in ["sextant-user-v1:alice:1:abc", "sextant-user-v1:alice:0:" + String(repeating: "0", count: 64),
                    "sextant-user-v1:../x:1:" + String(repeating: "0", count: 64), "sextant-user-v1:alice:1"] {
            XCTAssertNil(UserToken(text: bad), bad)
        }
        XCTAssertThrowsError(try directory.issue("alice", admin: false, rotate: false, secret: ClusterSecret(Self.secret)))
        XCTAssertThrowsError(try directory.issue("-x", admin: false, rotate: false, secret: ClusterSecret(Self.secret)))
        XCTAssertThrowsError(try directory.issue("dave", admin: false, rotate: false,
                                                 secret: ClusterSecret(ClusterSecret(Self.secret).credential(for: .client)!)),
                             "only the cluster secret issues tokens")
        // The REST API's check of a whole token.
        XCTAssertEqual(fixture.master.principal(forToken: tokens["carol"]!.text), Principal(name: "carol", isAdmin: true))
        XCTAssertEqual(fixture.master.principal(forToken: tokens["alice"]!.text), Principal(name: "alice", isAdmin: false))
        XCTAssertNil(fixture.master.principal(forToken: "nonsense"))
    }

    private func assertRefused(_ token: String, _ reason: String, line: UInt = #line) {
        XCTAssertThrowsError(try fixture.client(secret: .some(token)), line: line) { error in
            XCTAssertTrue("\(error)".contains(reason), "\(error)", line: line)
        }
    }
}
