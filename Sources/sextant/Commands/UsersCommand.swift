import ArgumentParser
import Cluster
import Foundation

/// `sextant users`: the master's users and their API tokens (docs/SECURITY.md). Run where the
/// cluster secret and the master's users file are; a running master picks changes up at once.
struct UsersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "Issue, rotate, remove and list the master's users and their API tokens.",
        subcommands: [Add.self, Rotate.self, Remove.self, List.self])

    struct Location: ParsableArguments {
        @Option(help: "The master's port, to find its history directory (conf sextant.master.port).")
        var port: Int?
        @Option(help: "The users file (default: users.list in the master's history directory; conf sextant.master.usersFile).")
        var usersFile: String?
        @OptionGroup(title: "Configuration") var conf: ConfOptions

        func directory() throws -> (UserDirectory, ClusterSecret?) {
            let c = try conf.configuration(flags: ["sextant.master.port": port.map(String.init),
                                                   "sextant.master.usersFile": usersFile])
            let settings = try ClusterConfiguration.master(c)
            guard let file = settings.usersFile ?? settings.historyDirectory?.appendingPathComponent("users.list") else {
                throw ValidationError("no users file: set --users-file or sextant.master.usersFile")
            }
            return (UserDirectory(file: file), settings.network.secret)
        }
    }

    struct TokenOutput: ParsableArguments {
        @Option(help: "Write the token to this file (mode 600) instead of standard output.")
        var out: String?

        /// The token goes to its user once: a file or stdout, never a log or an argument.
        func deliver(_ token: UserToken) throws {
            guard let out else {
                print(token.text)
                return
            }
            let created = FileManager.default.createFile(atPath: out, contents: Data((token.text + "\n").utf8),
                                                         attributes: [.posixPermissions: 0o600])
            guard created, chmod(out, 0o600) == 0 else { throw ValidationError("cannot write \(out)") }
            Console.info("sextant users: token of \(token.name) written to \(out)")
        }
    }

    static func issue(_ name: String, admin: Bool, rotate: Bool, location: Location, output: TokenOutput) throws {
        let (users, secret) = try location.directory()
        guard let secret else {
            Console.error("users: issuing tokens needs the cluster secret (sextant.authenticate.secretFile or SEXTANT_AUTH_SECRET)")
            throw ExitCode(ExitStatus.unusable)
        }
        do {
            try output.deliver(try users.issue(name, admin: admin, rotate: rotate, secret: secret))
        } catch let error as UserError {
            Console.error("users: \(error)")
            throw ExitCode(ExitStatus.unusable)
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a user and print its API token (for `sextant.authenticate.secretFile`, or `Authorization: Bearer`).")
        @Argument(help: "The user's name: letters, digits, '.', '_', '-'.")
        var name: String
        @Flag(help: "The user sees and cancels every job.")
        var admin = false
        @OptionGroup var output: TokenOutput
        @OptionGroup var location: Location

        func run() throws { try UsersCommand.issue(name, admin: admin, rotate: false, location: location, output: output) }
    }

    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a user a new token; the old one stops working.")
        @Argument(help: "The user's name.")
        var name: String
        @OptionGroup var output: TokenOutput
        @OptionGroup var location: Location

        func run() throws { try UsersCommand.issue(name, admin: false, rotate: true, location: location, output: output) }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a user; its token stops working at once (its jobs stay).")
        @Argument(help: "The user's name.")
        var name: String
        @OptionGroup var location: Location

        func run() throws {
            do {
                try location.directory().0.remove(name)
            } catch let error as UserError {
                Console.error("users: \(error)")
                throw ExitCode(ExitStatus.unusable)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the users: name, role, token generation and fingerprint.")
        @OptionGroup var location: Location

        func run() throws {
            print("USER              ROLE   GENERATION  TOKEN SHA-256")
            for user in try location.directory().0.all() {
                print(user.name.padding(toLength: 18, withPad: " ", startingAt: 0)
                      + (user.isAdmin ? "admin  " : "user   ")
                      + String(user.generation).padding(toLength: 12, withPad: " ", startingAt: 0)
                      + user.fingerprint.prefix(16))
            }
        }
    }
}
