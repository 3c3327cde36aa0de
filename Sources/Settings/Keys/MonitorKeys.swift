import Foundation

/// The web UI and event logs (read by Monitor's `MonitorSettings`).
public enum MonitorKeys {
    public static let uiEnabled = Declare.bool(
        "sextant.ui.enabled", .monitoring, .local, default: true,
        doc: "the master serves the web UI (a port in use is a warning; the master still runs); `run --ui` for local jobs")
    public static let uiHost = Declare.string(
        "sextant.ui.host", .monitoring, .local, default: "127.0.0.1",
        doc: "address the UI binds")
    public static let uiPort = Declare.int(
        "sextant.ui.port", .monitoring, .local, default: 8080, in: 0...65535,
        doc: "the UI's port; `0` picks a free one (logged); `run --ui-port`")
    public static let uiTokenFile = Declare.optionalString(
        "sextant.ui.tokenFile", .monitoring, .local, shown: "none (`$SEXTANT_UI_TOKEN`)",
        doc: "file holding the UI's token (16+ characters), required when `sextant.ui.host` is beyond loopback; "
            + "browsers open `URL?token=TOKEN` once (a cookie keeps it), scrapers send `Authorization: Bearer TOKEN`")
    public static let uiAllowedHosts = Declare.list(
        "sextant.ui.allowedHosts", .monitoring, .local,
        doc: "host names the UI answers to besides IP addresses, `localhost` and this machine's name "
            + "(other `Host` headers get 421: DNS rebinding)")
    public static let uiMaxConnections = Declare.int(
        "sextant.ui.maxConnections", .monitoring, .local, default: 128,
        doc: "connections the UI serves at once; each has 15 s to send its request and be answered")
    public static let eventLogEnabled = Declare.bool(
        "sextant.eventLog.enabled", .monitoring, .local, default: false,
        doc: "write one JSON-lines event log per job")
    public static let eventLogDirectory = Declare.optionalString(
        "sextant.eventLog.dir", .monitoring, .local, shown: "`~/.sextant/events`",
        doc: "where event logs go; a master reads them at start to show past jobs")

    public static let all = declarations(uiEnabled, uiHost, uiPort, uiTokenFile, uiAllowedHosts, uiMaxConnections,
                                         eventLogEnabled, eventLogDirectory)
}

/// Named datasets (read by the CLI's input resolver and `datasets` commands).
public enum DatasetKeys {
    public static let file = Declare.string(
        "sextant.datasets.file", .datasets, .local, default: "datasets.txt",
        doc: "the named datasets (`run NAME`, `datasets …`)")
    public static let directory = Declare.string(
        "sextant.datasets.dir", .datasets, .local, default: "data",
        doc: "where `datasets generate/fetch` put a dataset by default, and where `run NAME` looks")

    public static let all = declarations(file, directory)
}
