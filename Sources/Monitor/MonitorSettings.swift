import Engine
import Foundation

/// The monitor's conf keys.
public struct MonitorSettings: Sendable, Equatable {
    public static let knownKeys: Set<String> = ["sextant.ui.enabled", "sextant.ui.host", "sextant.ui.port",
                                                "sextant.eventLog.enabled", "sextant.eventLog.dir"]

    /// Serve the UI at all (`sextant.ui.enabled`, default true on a master).
    public var uiEnabled = true
    public var host = "127.0.0.1"
    /// 0 picks a free port.
    public var port = 8080
    /// Where event logs go when enabled (`sextant.eventLog.dir`, default ~/.sextant/events).
    public var eventLogDirectory: URL?

    public init() {}

    public init(_ configuration: Configuration) throws {
        uiEnabled = try configuration.bool("sextant.ui.enabled", default: true)
        host = configuration.string("sextant.ui.host", default: host)
        port = try configuration.int("sextant.ui.port", default: port)
        guard (0...65535).contains(port) else {
            throw MonitorError.badSetting(key: "sextant.ui.port", value: "\(port)", expected: "a port 0-65535")
        }
        if try configuration.bool("sextant.eventLog.enabled", default: false) {
            let dir = configuration["sextant.eventLog.dir"].map { NSString(string: $0).expandingTildeInPath }
            eventLogDirectory = dir.map { URL(fileURLWithPath: $0) }
                ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".sextant/events")
        }
    }
}
