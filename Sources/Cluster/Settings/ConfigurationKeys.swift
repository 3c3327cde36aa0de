import Foundation

/// The `sextant.*` keys Cluster reads, and settings built from a plain key-value map
/// (the CLI's merged defaults file, `--conf` pairs and flags).
public enum ClusterConfigurationKey {
    public static let masterHost = "sextant.master.host"
    public static let masterPort = "sextant.master.port"
    public static let historyDirectory = "sextant.master.historyDir"
    public static let maxJobBytes = "sextant.master.maxJobBytes"
    public static let requestTimeout = "sextant.network.requestTimeout"
    public static let maxFrameBytes = "sextant.network.maxFrameBytes"
    public static let maxConnections = "sextant.network.maxConnections"
    public static let handshakeTimeout = "sextant.network.handshakeTimeout"
    public static let heartbeatTimeout = "sextant.network.timeout"
    public static let heartbeatInterval = "sextant.executor.heartbeatInterval"
    public static let executorCores = "sextant.executor.cores"
    public static let executorLocalPaths = "sextant.executor.localPaths"
    public static let secret = "sextant.authenticate.secret"
    public static let secretFile = "sextant.authenticate.secretFile"
}

public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public var key: String
    public var value: String
    public var expected: String
    public var description: String { "\(key): expected \(expected), got '\(value)'" }
}

extension NetworkSettings {
    /// Reads the network keys from `conf`; missing keys keep their defaults. The secret comes from
    /// `sextant.authenticate.secretFile`, then SEXTANT_AUTH_SECRET, then `sextant.authenticate.secret`.
    public init(conf: [String: String],
                environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        typealias Key = ClusterConfigurationKey
        self.init()
        if let v = conf[Key.maxFrameBytes] { maxFrameBytes = try ConfValue.bytes(v, key: Key.maxFrameBytes) }
        if let v = conf[Key.maxConnections] { maxConnections = try ConfValue.count(v, key: Key.maxConnections) }
        if let v = conf[Key.handshakeTimeout] { handshakeTimeout = try ConfValue.seconds(v, key: Key.handshakeTimeout) }
        if let v = conf[Key.heartbeatInterval] { heartbeatInterval = try ConfValue.seconds(v, key: Key.heartbeatInterval) }
        if let v = conf[Key.heartbeatTimeout] { heartbeatTimeout = try ConfValue.seconds(v, key: Key.heartbeatTimeout) }
        if let v = conf[Key.requestTimeout] { requestTimeout = try ConfValue.seconds(v, key: Key.requestTimeout) }
        guard heartbeatTimeout > heartbeatInterval else {
            throw ConfigurationError(key: Key.heartbeatTimeout, value: "\(heartbeatTimeout)",
                                     expected: "more than \(Key.heartbeatInterval) (\(heartbeatInterval) s)")
        }
        secret = try ClusterSecret.resolve(file: conf[Key.secretFile], value: conf[Key.secret], environment: environment)
    }
}

extension MasterSettings {
    public init(conf: [String: String],
                environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        typealias Key = ClusterConfigurationKey
        self.init(network: try NetworkSettings(conf: conf, environment: environment))
        if let v = conf[Key.masterHost], !v.isEmpty { host = v }
        if let v = conf[Key.masterPort] {
            guard let port = Int(v), (0...65535).contains(port) else {
                throw ConfigurationError(key: Key.masterPort, value: v, expected: "a port 0-65535")
            }
            self.port = port
        }
        if let v = conf[Key.maxJobBytes] { maxJobBytes = try ConfValue.bytes(v, key: Key.maxJobBytes) }
        if let v = conf[Key.historyDirectory], !v.isEmpty {
            historyDirectory = URL(fileURLWithPath: (v as NSString).expandingTildeInPath)
        }
    }
}

extension ExecutorSettings {
    public init(master: MasterAddress, conf: [String: String],
                environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        typealias Key = ClusterConfigurationKey
        self.init(master: master, network: try NetworkSettings(conf: conf, environment: environment))
        if let v = conf[Key.executorCores] { cores = try ConfValue.count(v, key: Key.executorCores) }
        if let v = conf[Key.executorLocalPaths] {
            localPaths = v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
    }
}

/// Spark-style values: durations "30", "30s", "500ms", "2m", "1h"; sizes "1048576", "512k", "16m", "1g".
enum ConfValue {
    static func seconds(_ text: String, key: String) throws -> TimeInterval {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        guard let value = scaled(text, units: units), value > 0 else {
            throw ConfigurationError(key: key, value: text, expected: "a positive duration such as 30s, 500ms or 2m")
        }
        return value
    }

    static func bytes(_ text: String, key: String) throws -> Int {
        let units: [(String, Double)] = [("k", 1024), ("m", 1_048_576), ("g", 1_073_741_824), ("b", 1)]
        guard let value = scaled(text.lowercased(), units: units), value >= 64, value <= Double(Int32.max) else {
            throw ConfigurationError(key: key, value: text, expected: "a size from 64 bytes to 2g, such as 16m")
        }
        return Int(value)
    }

    static func count(_ text: String, key: String) throws -> Int {
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value > 0 else {
            throw ConfigurationError(key: key, value: text, expected: "a positive whole number")
        }
        return value
    }

    private static func scaled(_ text: String, units: [(String, Double)]) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
            return Double(trimmed.dropLast(suffix.count)).map { $0 * factor }
        }
        return Double(trimmed)
    }
}
