import Engine
import Foundation

/// What a finished (or stopped) job did, for the summary line and the exit status.
public struct JobReport: Codable, Sendable {
    public var jobID: String
    /// Engine's one `JobStatus`: `succeeded` (every input committed), `completedWithFailures`
    /// (ran to the end, some inputs failed: listed in the manifest), `failed` (stopped early by
    /// fail-fast) or `cancelled` (stopped by a cancel or an interrupt). Resume either with --resume.
    public var status: JobStatus
    public var inputs: Int
    public var committed: Int
    public var skipped: Int
    public var failed: Int
    /// Inputs `--where` left out (nil in reports of builds before it).
    public var excluded: Int?
    public var sources: Int
    public var seconds: Double
    public var output: String
    /// The first few failures, one line each, for the summary.
    public var failures: [String]
    /// The inputs' extraction seconds summed, and how much of it was spent waiting for their
    /// bytes from a store (issue 12's figure; nil in reports of builds before it).
    public var taskSeconds: Double?
    public var waitSeconds: Double?

    public var summary: String {
        let rate = seconds > 0 ? Double(committed) / seconds : 0
        var text = "job \(jobID): \(status.rawValue): \(committed) catalogs committed, \(skipped) skipped, "
            + "\(failed) failed" + ((excluded ?? 0) > 0 ? ", \(excluded!) excluded by --where" : "")
            + " of \(inputs) inputs; \(sources) sources; "
            + String(format: "%.2f s (%.2f images/s, %.1f ms/image)", seconds, rate,
                     committed > 0 ? seconds * 1000 / Double(committed) : 0)
            + waitNote
            + "\ncatalogs and _manifest.jsonl in \(output)"
        for failure in failures { text += "\n  failed: \(failure)" }
        if failed > failures.count { text += "\n  ... and \(failed - failures.count) more (see _manifest.jsonl)" }
        return text
    }
}

extension JobReport {
    /// "; waited for input bytes 0.4 % of task time", when any input came from a store.
    private var waitNote: String {
        guard let waitSeconds, let taskSeconds, waitSeconds > 0, taskSeconds > 0 else { return "" }
        return String(format: "; waited for input bytes %.1f %% of task time", 100 * waitSeconds / taskSeconds)
    }

    /// The report's counts, summed one manifest entry at a time as the manifest is written.
    struct Tally {
        var inputs = 0, committed = 0, skipped = 0, failed = 0, notRun = 0, excluded = 0, sources = 0
        var taskSeconds = 0.0, waitSeconds = 0.0
        /// The first few failures, one line each, for the summary.
        var firstFailures: [String] = []
        /// Where the inputs ran (for the job's provenance).
        var executors = Set<String>()

        mutating func add(_ entry: ManifestEntry) {
            inputs += 1
            if let executor = entry.executor { executors.insert(executor) }
            if entry.outcome != .skipped {
                taskSeconds += entry.seconds ?? 0
                waitSeconds += entry.waitSeconds ?? 0
            }
            switch entry.outcome {
            case .committed:
                committed += 1
                let (sum, overflow) = sources.addingReportingOverflow(entry.rows ?? 0)
                sources = overflow ? .max : sum
            case .skipped: skipped += 1
            case .notRun: notRun += 1
            case .excluded: excluded += 1
            case .failed:
                failed += 1
                if firstFailures.count < 10 {
                    firstFailures.append(entry.error ?? ManifestEntry.errorLine(input: entry.input, message: "failed"))
                }
            }
        }
    }
}
