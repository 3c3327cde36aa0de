import Foundation

/// One stream's live figures as the UI and API show them (`sextant stream --ui`).
public struct StreamView: Codable, Equatable, Sendable {
    public var id: String
    public var input: String
    public var output: String
    public var started: Date
    public var state: String
    public var batches: Int
    public var filesCommitted: Int
    public var filesFailed: Int
    public var filesSkipped: Int
    public var bytesRead: Int64
    public var filesPerSecond: Double
    public var megabytesPerSecond: Double
    /// Complete files not yet taken, and how long the oldest has waited since it landed.
    public var backlog: Int
    public var lagSeconds: Double
    /// From landing to committed catalog, seconds.
    public var latencyP50: Double?
    public var latencyP90: Double?
    public var latencyP99: Double?

    public init(id: String, input: String, output: String, started: Date, state: String, batches: Int,
                filesCommitted: Int, filesFailed: Int, filesSkipped: Int, bytesRead: Int64, filesPerSecond: Double,
                megabytesPerSecond: Double, backlog: Int, lagSeconds: Double, latencyP50: Double?,
                latencyP90: Double?, latencyP99: Double?) {
        self.id = id
        self.input = input
        self.output = output
        self.started = started
        self.state = state
        self.batches = batches
        self.filesCommitted = filesCommitted
        self.filesFailed = filesFailed
        self.filesSkipped = filesSkipped
        self.bytesRead = bytesRead
        self.filesPerSecond = filesPerSecond
        self.megabytesPerSecond = megabytesPerSecond
        self.backlog = backlog
        self.lagSeconds = lagSeconds
        self.latencyP50 = latencyP50
        self.latencyP90 = latencyP90
        self.latencyP99 = latencyP99
    }
}

/// The streams a monitor shows, by id (a process runs one or a few).
/// @unchecked: `lock` guards `views`.
final class StreamBoard: @unchecked Sendable {
    private let lock = NSLock()
    private var views: [String: StreamView] = [:]

    func update(_ view: StreamView) { lock.withLock { views[view.id] = view } }
    var all: [StreamView] { lock.withLock { views.values.sorted { $0.id < $1.id } } }
    func view(_ id: String) -> StreamView? { lock.withLock { views[id] } }
}

extension Monitor {
    /// Shows `view` under /streams (replacing that stream's earlier figures).
    public func updateStream(_ view: StreamView) { streams.update(view) }
    public func streamViews() -> [StreamView] { streams.all }
    public func streamView(_ id: String) -> StreamView? { streams.view(id) }
}

extension Pages {
    static func streams(_ views: [StreamView]) -> String {
        let body = views.isEmpty ? "<h2>Streams</h2><p class=\"muted\">No stream in this process.</p>"
            : views.map(stream).joined(separator: "\n")
        return HTML.page(title: "Streams", refresh: true, body: body)
    }

    private static func stream(_ view: StreamView) -> String {
        func seconds(_ value: Double?) -> String { value.map { String(format: "%.2f s", $0) } ?? "no catalog yet" }
        var body = """
        <h2>Stream <span class="mono">\(HTML.escape(view.id))</span> <span class="status">\(HTML.escape(view.state))</span></h2>
        <dl>
        <dt>Watching</dt><dd><code>\(HTML.escape(view.input))</code></dd>
        <dt>Catalogs</dt><dd><code>\(HTML.escape(view.output))</code></dd>
        <dt>Started</dt><dd>\(HTML.escape(Format.date(view.started)))</dd>
        <dt>Batches</dt><dd>\(view.batches)</dd>
        <dt>Files</dt><dd>\(view.filesCommitted) committed, \(view.filesFailed) failed, \(view.filesSkipped) skipped by policy</dd>
        <dt>Rate</dt><dd>\(String(format: "%.2f files/s, %.2f MB/s", view.filesPerSecond, view.megabytesPerSecond)) (last 30 s)</dd>
        <dt>Lag</dt><dd>\(view.backlog) complete files waiting; the oldest landed \(String(format: "%.1f s", view.lagSeconds)) ago</dd>
        <dt>Latency p50 / p90 / p99</dt><dd>\(seconds(view.latencyP50)) / \(seconds(view.latencyP90)) / \(seconds(view.latencyP99)) (landed to committed catalog)</dd>
        <dt>Read</dt><dd>\(HTML.escape(Format.bytes(Int(view.bytesRead))))</dd>
        </dl>
        """
        if view.state != "stopped" {
            body += """
            <form method="post" action="/jobs/\(HTML.pathSegment(view.id))/cancel">
            <button type="submit">Stop stream</button></form>
            """
        }
        return body
    }
}
