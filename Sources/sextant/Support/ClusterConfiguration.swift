import Cluster
import Engine
import Foundation
import Hashing
import Pipeline

/// Turns the layered configuration into the Cluster module's settings.
enum ClusterConfiguration {
    static func network(_ c: Configuration) throws -> NetworkSettings {
        try NetworkSettings(conf: c.values)
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
    static var buildID: String { BuildIdentity.id }
}
