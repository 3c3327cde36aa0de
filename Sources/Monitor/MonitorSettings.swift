import Engine
import Foundation

/// The monitor's conf keys (declared in `MonitorKeys`).
public struct MonitorSettings: Sendable, Equatable {
    /// The UI's token from the environment (else `sextant.ui.tokenFile`).
    public static let tokenVariable = "SEXTANT_UI_TOKEN"

    /// Serve the UI at all (`sextant.ui.enabled`, default true on a master).
    public var uiEnabled = MonitorKeys.uiEnabled.defaultValue
    public var host = MonitorKeys.uiHost.defaultValue
    /// 0 picks a free port.
    public var port = MonitorKeys.uiPort.defaultValue
    /// Where event logs go when enabled (`sextant.eventLog.dir`, default ~/.sextant/events).
    public var eventLogDirectory: URL?
    /// Host check and token (`sextant.ui.tokenFile` or SEXTANT_UI_TOKEN; `sextant.ui.allowedHosts`).
    public var access = WebAccess()
    /// Connections served at once (`sextant.ui.maxConnections`); each has 15 s to be answered.
    public var maxConnections = MonitorKeys.uiMaxConnections.defaultValue
    /// Seconds a connection has to send its request and be answered (one request per connection).
    public var requestTimeout: TimeInterval = 15

    public init() {}

    public init(_ configuration: Configuration) throws {
        uiEnabled = try configuration.value(of: MonitorKeys.uiEnabled)
        host = try configuration.value(of: MonitorKeys.uiHost)
        port = try configuration.value(of: MonitorKeys.uiPort)
        maxConnections = try configuration.value(of: MonitorKeys.uiMaxConnections)
        access.allowedHosts = Set(try configuration.value(of: MonitorKeys.uiAllowedHosts).map { $0.lowercased() })
        if let file = try configuration.value(of: MonitorKeys.uiTokenFile), !file.isEmpty {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ConfigurationError.badValue(key: MonitorKeys.uiTokenFile.name, value: file, expected: "a readable file")
            }
            access.token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        } else if let token = ProcessInfo.processInfo.environment[Self.tokenVariable], !token.isEmpty {
            access.token = token
        }
        if let token = access.token, token.utf8.count < 16 {
            throw ConfigurationError.badValue(key: MonitorKeys.uiTokenFile.name, value: "(\(token.utf8.count) bytes)",
                                          expected: "a token of at least 16 bytes")
        }
        if try configuration.value(of: MonitorKeys.eventLogEnabled) {
            let dir = try configuration.value(of: MonitorKeys.eventLogDirectory).map { NSString(string: $0).expandingTildeInPath }
            eventLogDirectory = dir.map { URL(fileURLWithPath: $0) }
                ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".sextant/events")
        }
    }
}
