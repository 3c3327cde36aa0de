import ArgumentParser
import Cluster
import Foundation

/// Writes one role's credential, derived from the cluster secret, for processes of that role only:
/// executors given the executor credential cannot submit jobs; clients given the client one
/// cannot register as executors.
struct CredentialCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credential",
        abstract: "Write a role's credential (executor or client), derived from the cluster secret, to a mode-600 file.")

    @Argument(help: "executor or client.")
    var role: String
    @Option(help: "File to write (mode 600); give it to that role's processes as sextant.authenticate.secretFile.")
    var out: String
    @OptionGroup(title: "Configuration") var conf: ConfOptions

    func run() throws {
        guard let role = PeerRole(rawValue: role) else {
            Console.error("sextant credential: the role must be executor or client, not '\(role)'")
            throw ExitCode(ExitStatus.unusable)
        }
        let c = try conf.configuration()
        guard let secret = try ClusterConfiguration.network(c).secret, let text = secret.credential(for: role) else {
            Console.error("sextant credential: needs the cluster secret (sextant.authenticate.secretFile or SEXTANT_AUTH_SECRET)")
            throw ExitCode(ExitStatus.unusable)
        }
        let created = FileManager.default.createFile(atPath: out, contents: Data((text + "\n").utf8),
                                                     attributes: [.posixPermissions: 0o600])
        guard created, chmod(out, 0o600) == 0 else {
            Console.error("sextant credential: cannot write \(out)")
            throw ExitCode(ExitStatus.unusable)
        }
        Console.info("sextant credential: \(role.rawValue) credential written to \(out)")
    }
}
