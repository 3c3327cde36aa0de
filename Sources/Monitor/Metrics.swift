import Foundation

/// Counters since this process started, in Prometheus' text exposition format (version 0.0.4).
/// Rates are Prometheus' job; only totals are kept here.
struct Metrics {
    /// Upper bounds of the task duration histogram, seconds (a frame takes ~0.2 s per core).
    static let durationBounds: [Double] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]

    private(set) var tasksStarted = 0
    private(set) var tasksEnded: [String: Int] = [:]
    private(set) var durationCounts = [Int](repeating: 0, count: Metrics.durationBounds.count)
    private(set) var durationSum = 0.0
    private(set) var durationCount = 0
    private(set) var frames: [String: Int] = [:]
    private(set) var sources = 0
    private(set) var bytesWritten = 0
    private(set) var jobsEnded: [String: Int] = [:]

    mutating func record(_ event: MonitorEvent) {
        switch event.event {
        case .taskStart:
            tasksStarted += 1
        case .taskEnd:
            tasksEnded[event.outcome ?? "succeeded", default: 0] += 1
            let duration = max(0, event.duration ?? 0)
            // Buckets are stored non-cumulative and summed when rendered.
            if let index = Self.durationBounds.firstIndex(where: { duration <= $0 }) { durationCounts[index] += 1 }
            durationSum += duration
            durationCount += 1
        case .input:
            guard let record = event.inputRecord else { return }
            frames[record.outcome.rawValue, default: 0] += 1
            if record.outcome == .committed {
                sources += record.rows ?? 0
                bytesWritten += record.bytes ?? 0
            }
        case .jobEnd:
            jobsEnded[event.status ?? "finished", default: 0] += 1
        case .jobStart, .executorAdded, .executorLost:
            break
        }
    }

    /// The exposition text. Gauges come from the caller's current state.
    func render(executors: Int, tasksRunning: Int, jobsRunning: Int) -> String {
        var text = MetricsText()
        text.family("sextant_tasks_total", "counter", "Task attempts by state: started, then how each ended.")
        text.sample("sextant_tasks_total", ["state": "started"], tasksStarted)
        for state in ["succeeded", "failed", "cancelled", "lost", "discarded"] {
            text.sample("sextant_tasks_total", ["state": state], tasksEnded[state] ?? 0)
        }
        text.family("sextant_tasks_running", "gauge", "Task attempts running now.")
        text.sample("sextant_tasks_running", [:], tasksRunning)

        text.family("sextant_task_duration_seconds", "histogram", "Seconds from a task's launch to its end.")
        var cumulative = 0
        for (bound, count) in zip(Self.durationBounds, durationCounts) {
            cumulative += count
            text.sample("sextant_task_duration_seconds_bucket", ["le": MetricsText.number(bound)], cumulative)
        }
        text.sample("sextant_task_duration_seconds_bucket", ["le": "+Inf"], durationCount)
        text.sample("sextant_task_duration_seconds_sum", [:], durationSum)
        text.sample("sextant_task_duration_seconds_count", [:], durationCount)

        text.family("sextant_frames_total", "counter", "Input frames by outcome: committed, skipped (resume), failed.")
        for outcome in ["committed", "skipped", "failed"] {
            text.sample("sextant_frames_total", ["outcome": outcome], frames[outcome] ?? 0)
        }
        text.family("sextant_sources_total", "counter", "Sources written to committed catalogs.")
        text.sample("sextant_sources_total", [:], sources)
        text.family("sextant_catalog_bytes_written_total", "counter", "Bytes of committed catalogs.")
        text.sample("sextant_catalog_bytes_written_total", [:], bytesWritten)

        text.family("sextant_jobs_total", "counter", "Jobs ended, by status.")
        for (status, count) in jobsEnded.sorted(by: { $0.key < $1.key }) {
            text.sample("sextant_jobs_total", ["status": status], count)
        }
        text.family("sextant_jobs_running", "gauge", "Jobs running now.")
        text.sample("sextant_jobs_running", [:], jobsRunning)
        text.family("sextant_executors", "gauge", "Executors connected now.")
        text.sample("sextant_executors", [:], executors)
        return text.output
    }
}

/// Builds exposition-format lines with escaped label values.
struct MetricsText {
    private(set) var output = ""

    mutating func family(_ name: String, _ type: String, _ help: String) {
        output += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    mutating func sample(_ name: String, _ labels: [String: String], _ value: Int) {
        sample(name, labels, rendered: String(value))
    }

    mutating func sample(_ name: String, _ labels: [String: String], _ value: Double) {
        sample(name, labels, rendered: Self.number(value))
    }

    private mutating func sample(_ name: String, _ labels: [String: String], rendered: String) {
        let pairs = labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(Self.escapeLabel($0.value))\"" }
        output += name + (pairs.isEmpty ? "" : "{\(pairs.joined(separator: ","))}") + " \(rendered)\n"
    }

    static func number(_ value: Double) -> String {
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        return String(value)
    }

    static func escapeLabel(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
