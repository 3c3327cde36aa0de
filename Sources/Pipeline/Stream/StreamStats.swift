import Foundation

/// A stream's live figures, for the web UI and the log.
public struct StreamFigures: Codable, Equatable, Sendable {
    public var streamID: String
    public var input: String
    public var output: String
    public var started: Date
    public var batches: Int = 0
    public var filesCommitted: Int = 0
    public var filesFailed: Int = 0
    public var filesSkipped: Int = 0
    public var bytesRead: Int64 = 0
    /// Over the last `StreamStats.rateWindow` seconds.
    public var filesPerSecond: Double = 0
    public var megabytesPerSecond: Double = 0
    /// Complete files waiting, and how long the oldest of them has waited since it landed.
    public var backlog: Int = 0
    public var lagSeconds: Double = 0
    /// From a file's landing (mtime) to its committed catalog, over the last committed files.
    public var latencyP50: Double?
    public var latencyP90: Double?
    public var latencyP99: Double?
    public var lastBatch: Int?
    public var state: String = "watching"
}

/// Keeps the figures: counts, a rate over a sliding window, latency percentiles over the last
/// `latencySamples` files (bounded memory however long the stream runs).
/// @unchecked: `lock` guards `figures`, `latencies`, `nextLatency` and `recent`.
final class StreamStats: @unchecked Sendable {
    static let rateWindow: TimeInterval = 30
    static let latencySamples = 4096
    private let lock = NSLock()
    private var figures: StreamFigures
    private var latencies: [Double] = []
    private var nextLatency = 0
    private var recent: [(time: Date, files: Int, bytes: Int64)] = []

    init(streamID: String, input: String, output: String) {
        figures = StreamFigures(streamID: streamID, input: input, output: output, started: Date())
    }

    func committed(bytes: Int64, latency: Double?, at time: Date = Date()) {
        lock.withLock {
            figures.filesCommitted += 1
            figures.bytesRead += bytes
            recent.append((time, 1, bytes))
            if let latency {
                if latencies.count < Self.latencySamples { latencies.append(latency) } else { latencies[nextLatency] = latency }
                nextLatency = (nextLatency + 1) % Self.latencySamples
            }
        }
    }

    func update(_ change: (inout StreamFigures) -> Void) { lock.withLock { change(&figures) } }

    func snapshot(now: Date = Date()) -> StreamFigures {
        lock.withLock {
            recent.removeAll { now.timeIntervalSince($0.time) > Self.rateWindow }
            let span = min(Self.rateWindow, max(1, now.timeIntervalSince(figures.started)))
            var copy = figures
            copy.filesPerSecond = Double(recent.reduce(0) { $0 + $1.files }) / span
            copy.megabytesPerSecond = Double(recent.reduce(0) { $0 + $1.bytes }) / span / 1e6
            let sorted = latencies.sorted()
            copy.latencyP50 = Self.percentile(sorted, 0.50)
            copy.latencyP90 = Self.percentile(sorted, 0.90)
            copy.latencyP99 = Self.percentile(sorted, 0.99)
            return copy
        }
    }

    /// Nearest-rank percentile of sorted values.
    static func percentile(_ sorted: [Double], _ fraction: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count - 1, max(0, rank - 1))]
    }
}
