import Engine
import Foundation
import Pipeline

/// `--dry-run`: how long planning takes and how much memory the plan needs, without running.
enum DryRun {
    static func report(_ spec: JobSpec) throws {
        let started = Date()
        let plan = try spec.makePlan()
        let seconds = Date().timeIntervalSince(started)
        print("dry run: \(spec.inputs.count) inputs in \(plan.count) tasks; planned in "
              + String(format: "%.3f s", seconds) + "; peak memory \(peakResidentMegabytes()) MB")
        if spec.selection != nil {
            let started = Date()
            let counts = try spec.selectionCounts()
            print("--where: \(counts.selected) selected, \(counts.excluded) excluded, \(counts.unreadable) unreadable; "
                  + String(format: "headers read in %.3f s", Date().timeIntervalSince(started))
                  + "; peak memory \(peakResidentMegabytes()) MB")
        }
    }

    /// VmHWM from /proc: the process's peak resident set.
    static func peakResidentMegabytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
    }
}
