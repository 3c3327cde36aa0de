import Foundation
import NIOCore

/// Which addresses stay on this machine: the only place a cluster may run without a secret.
enum Loopback {
    /// A host name or address as given to bind or dial (`127.0.0.1`, `::1`, `localhost`).
    static func contains(host: String) -> Bool {
        let host = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// A connected socket's address.
    static func contains(_ address: SocketAddress?) -> Bool {
        guard let ip = address?.ipAddress else { return false }
        return contains(host: ip) || ip.lowercased().hasPrefix("::ffff:127.")
    }
}
