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

    /// The master's settings, with its history directory defaulting to ~/.sextant/master-PORT.
    static func master(_ c: Configuration) throws -> MasterSettings {
        var settings = try MasterSettings(conf: c.values)
        if settings.historyDirectory == nil {
            settings.historyDirectory = FileManager.default.homeDirectoryForCurrentUser
                .appendingPathComponent(".sextant/master-\(settings.port)")
        }
        return settings
    }

    /// Names this exact binary: the version plus a hash of the executable, so a node running
    /// another build is refused at the handshake instead of misreading tasks.
    static var buildID: String { BuildIdentity.id }
}
