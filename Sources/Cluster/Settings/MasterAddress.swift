import Foundation

/// Where a master listens: `sextant://host:port`, `host:port`, or `host` (port 7077).
public struct MasterAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public static let scheme = "sextant"

    public init(host: String, port: Int = MasterSettings.defaultPort) {
        self.host = host
        self.port = port
    }

    /// Parses `sextant://host:port` (scheme and port optional; IPv6 hosts in brackets).
    public init(parsing text: String) throws {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        if let range = rest.range(of: "://") {
            let scheme = rest[..<range.lowerBound]
            guard scheme == Self.scheme else {
                throw ClusterError.invalidAddress(text, reason: "the scheme must be \(Self.scheme)://")
            }
            rest = rest[range.upperBound...]
        }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        var host = rest
        var port = MasterSettings.defaultPort
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                throw ClusterError.invalidAddress(text, reason: "unclosed [ in an IPv6 address")
            }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let value = Int(after.dropFirst()) else {
                    throw ClusterError.invalidAddress(text, reason: "expected :port after ]")
                }
                port = value
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            guard let value = Int(rest[rest.index(after: colon)...]) else {
                throw ClusterError.invalidAddress(text, reason: "the port is not a number")
            }
            port = value
        }
        guard !host.isEmpty else { throw ClusterError.invalidAddress(text, reason: "no host") }
        guard (1...65535).contains(port) else {
            throw ClusterError.invalidAddress(text, reason: "the port must be 1-65535")
        }
        self.host = String(host)
        self.port = port
    }

    public var description: String {
        host.contains(":") ? "\(Self.scheme)://[\(host)]:\(port)" : "\(Self.scheme)://\(host):\(port)"
    }
}
