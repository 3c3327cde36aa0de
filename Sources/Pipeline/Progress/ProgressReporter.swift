import Foundation

/// Running totals of a job, fed by task events and shown as a live bar on a terminal
/// or as a plain log line every `logEvery` files when output goes to a file or a pipe.
/// @unchecked: `lock` guards the counts and `lastDraw` (`record` changes them under it).
public final class ProgressReporter: @unchecked Sendable {
    // Guarded by `lock`; read only by `record` (and the bar and line it draws).
    private let total: Int
    private var done = 0
    private var failed = 0
    private var sources = 0
    private let started = Date()
    private var lastDraw = Date.distantPast
    private let lock = NSLock()
    private let isTerminal: Bool
    private let logEvery: Int
    private let write: (String) -> Void

    public init(total: Int, isTerminal: Bool = isatty(STDERR_FILENO) == 1, logEvery: Int = 100,
                write: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.total = total
        self.isTerminal = isTerminal
        self.logEvery = max(1, logEvery)
        self.write = write
    }

    /// Records one finished input (committed, skipped or failed).
    public func record(succeeded: Bool, sources: Int) {
        lock.lock(); defer { lock.unlock() }
        let before = done
        done += 1
        if !succeeded { failed += 1 }
        self.sources += sources
        draw(after: before)
    }

    /// Shows totals counted elsewhere (a master's progress for a submitted job), which may
    /// advance by many inputs at once.
    public func show(done: Int, failed: Int, sources: Int) {
        lock.lock(); defer { lock.unlock() }
        let before = self.done
        self.done = done
        self.failed = failed
        self.sources = sources
        draw(after: before)
    }

    /// Redraws the bar, or logs a line each time `done` passes a multiple of `logEvery`. Holds `lock`.
    private func draw(after before: Int) {
        let reachedTotal = done == total && before < total  // once, though totals may be shown again
        if isTerminal {
            // Redraw at most 10 times a second: a terminal is slower than a fast job.
            if Date().timeIntervalSince(lastDraw) > 0.1 || reachedTotal {
                lastDraw = Date()
                write("\r" + bar() + (reachedTotal ? "\n" : ""))
            }
        } else if done / logEvery > before / logEvery || reachedTotal {
            write(line() + "\n")
        }
    }

    /// The figures shared by the bar and the log line.
    private var figures: (rate: Double, eta: String) {
        let elapsed = max(Date().timeIntervalSince(started), 1e-3)
        let rate = Double(done) / elapsed
        let remaining = rate > 0 ? Double(total - done) / rate : 0
        return (rate, Self.format(seconds: remaining))
    }

    private func bar(width: Int = 30) -> String {
        let (rate, eta) = figures
        let fraction = total > 0 ? Double(done) / Double(total) : 1
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        return "[\(bar)] \(done)/\(total) files  \(sources) sources  "
            + String(format: "%.1f", rate) + " files/s  ETA \(eta)  \(failed) failed"
    }

    private func line() -> String {
        let (rate, eta) = figures
        return "progress: \(done)/\(total) files, \(sources) sources, "
            + String(format: "%.1f", rate) + " files/s, ETA \(eta), \(failed) failed"
    }

    static func format(seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%dh%02dm", s / 3600, s % 3600 / 60) : String(format: "%dm%02ds", s / 60, s % 60)
    }
}
