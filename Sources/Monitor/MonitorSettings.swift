import Engine
import Foundation

/// The monitor's conf keys.
public struct MonitorSettings: Sendable, Equatable {
    public static let knownKeys: Set<String> = ["sextant.ui.enabled", "sextant.ui.host", "sextant.ui.port",
                                                "sextant.ui.tokenFile", "sextant.ui.allowedHosts",
                                                "sextant.ui.maxConnections",
                                                "sextant.eventLog.enabled", "sextant.eventLog.dir"]
    /// The UI's token from the environment (else `sextant.ui.tokenFile`).
    public static let tokenVariable = "SEXTANT_UI_TOKEN"

    /// Serve the UI at all (`sextant.ui.enabled`, default true on a master).
    public var uiEnabled = true
    public var host = "127.0.0.1"
    /// 0 picks a free port.
    public var port = 8080
    /// Where event logs go when enabled (`sextant.eventLog.dir`, default ~/.sextant/events).
    public var eventLogDirectory: URL?
    /// Host check and token (`sextant.ui.tokenFile` or SEXTANT_UI_TOKEN; `sextant.ui.allowedHosts`).
    public var access = WebAccess()
    /// Connections served at once (`sextant.ui.maxConnections`); each has 15 s to be answered.
    public var maxConnections = 128
    /// Seconds a connection has to send its request and be answered (one request per connection).
    public var requestTimeout: TimeInterval = 15

    public init() {}

    public init(_ configuration: Configuration) throws {
        uiEnabled = try configuration.bool("sextant.ui.enabled", default: true)
        host = configuration.string("sextant.ui.host", default: host)
        port = try configuration.int("sextant.ui.port", default: port)
        guard (0...65535).contains(port) else {
            throw MonitorError.badSetting(key: "sextant.ui.port", value: "\(port)", expected: "a port 0-65535")
        }
        maxConnections = try configuration.int("sextant.ui.maxConnections", default: maxConnections)
        access.allowedHosts = Set((configuration["sextant.ui.allowedHosts"] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty })
        if let file = configuration["sextant.ui.tokenFile"], !file.isEmpty {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw MonitorError.badSetting(key: "sextant.ui.tokenFile", value: file, expected: "a readable file")
            }
            access.token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        } else if let token = ProcessInfo.processInfo.environment[Self.tokenVariable], !token.isEmpty {
            access.token = token
        }
        if let token = access.token, token.utf8.count < 16 {
            throw MonitorError.badSetting(key: "sextant.ui.tokenFile", value: "(\(token.utf8.count) bytes)",
                                          expected: "a token of at least 16 bytes")
        }
        if try configuration.bool("sextant.eventLog.enabled", default: false) {
            let dir = configuration["sextant.eventLog.dir"].map { NSString(string: $0).expandingTildeInPath }
            eventLogDirectory = dir.map { URL(fileURLWithPath: $0) }
                ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".sextant/events")
        }
    }
}
