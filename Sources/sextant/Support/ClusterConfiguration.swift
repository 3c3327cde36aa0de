import Cluster
import Engine
import Foundation
import Hashing
import Pipeline

/// Turns the layered configuration into the Cluster module's settings.
enum ClusterConfiguration {
    static func network(_ c: Configuration) throws -> NetworkSettings {
        let defaults = NetworkSettings()
        return NetworkSettings(
            maxFrameBytes: Int(try c.size("sextant.network.maxFrameBytes", default: Int64(defaults.maxFrameBytes))),
            maxConnections: try c.int("sextant.network.maxConnections", default: defaults.maxConnections),
            handshakeTimeout: try c.duration("sextant.network.handshakeTimeout", default: defaults.handshakeTimeout),
            heartbeatInterval: try c.duration("sextant.executor.heartbeatInterval", default: defaults.heartbeatInterval),
            heartbeatTimeout: try c.duration("sextant.network.timeout", default: defaults.heartbeatTimeout),
            secret: try ClusterSecret.resolve(file: c["sextant.authenticate.secretFile"],
                                              value: c["sextant.authenticate.secret"]))
    }

    /// The master address from `--master`, else `sextant.master`.
    static func masterAddress(_ flag: String?, _ c: Configuration) throws -> MasterAddress {
        guard let text = flag ?? c["sextant.master"], text.hasPrefix("sextant://") else {
            throw ClusterError.invalidAddress(flag ?? c["sextant.master"] ?? "",
                                              reason: "give --master sextant://HOST:PORT or set sextant.master")
        }
        return try MasterAddress(parsing: text)
    }

    /// Names this exact binary: the version plus a hash of the executable, so a node running
    /// another build is refused at the handshake instead of misreading tasks.
    static let buildID: String = {
        let hash = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/self/exe"), options: .alwaysMapped))
            .map { Digest.sha256($0).hexString.prefix(16) } ?? "unknown"
        return "sextant-\(SextantVersion.string)-\(hash)"
    }()
}
