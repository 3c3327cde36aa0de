/// What happened to one input image. The host (the pipeline) maps its own manifest entries
/// to this, so the monitor needs no pipeline types.
public struct InputRecord: Codable, Sendable, Equatable {
    public enum Outcome: String, Codable, Sendable {
        case committed, skipped, failed
        case notRun = "not-run"
        case excluded
    }

    public var input: String
    public var outcome: Outcome
    public var attempts: Int
    /// Sources in the committed catalog.
    public var rows: Int?
    /// Bytes of the committed catalog.
    public var bytes: Int?
    public var seconds: Double?
    public var executor: String?
    public var error: String?
    /// The frame-table rows of the input's image HDUs, when measured.
    public var frames: [FrameRecord]?

    public init(input: String, outcome: Outcome, attempts: Int = 1, rows: Int? = nil, bytes: Int? = nil,
                seconds: Double? = nil, executor: String? = nil, error: String? = nil, frames: [FrameRecord]? = nil) {
        self.input = input
        self.outcome = outcome
        self.attempts = attempts
        self.rows = rows
        self.bytes = bytes
        self.seconds = seconds
        self.executor = executor
        self.error = error
        self.frames = frames
    }
}
