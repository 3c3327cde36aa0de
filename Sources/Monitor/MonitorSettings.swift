import Engine
import Foundation

/// The monitor's conf keys (declared in `MonitorKeys`).
public struct MonitorSettings: Sendable, Equatable {
    /// Serve the UI at all (`sextant.ui.enabled`, default true on a master).
    public var uiEnabled = MonitorKeys.uiEnabled.defaultValue
    public var host = MonitorKeys.uiHost.defaultValue
    /// 0 picks a free port.
    public var port = MonitorKeys.uiPort.defaultValue
    /// Where event logs go when enabled (`sextant.eventLog.dir`, default ~/.sextant/events).
    public var eventLogDirectory: URL?

    public init() {}

    public init(_ configuration: Configuration) throws {
        uiEnabled = try configuration.value(of: MonitorKeys.uiEnabled)
        host = try configuration.value(of: MonitorKeys.uiHost)
        port = try configuration.value(of: MonitorKeys.uiPort)
        if try configuration.value(of: MonitorKeys.eventLogEnabled) {
            let dir = try configuration.value(of: MonitorKeys.eventLogDirectory).map { NSString(string: $0).expandingTildeInPath }
            eventLogDirectory = dir.map { URL(fileURLWithPath: $0) }
                ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".sextant/events")
        }
    }
}
