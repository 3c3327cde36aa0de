import Foundation
import Settings

/// Settings that belong to the machine, not the job: where a process's credentials go (S3
/// endpoint, profile, instance role, metadata address, keys), which directories it may touch,
/// where it keeps its own records. A submitted job cannot set them on the master, and a task
/// cannot set them on an executor: each process keeps its own values (or none).
public enum HostSettings {
    /// Every declared key a job may not set (process-wide, local and secret keys: see
    /// `KeyDeclaration.Scope`), and the roots, whatever their declaration says.
    public static let keys: Set<String> = Set(ConfigurationKeys.all.filter { !$0.jobSettable }.map(\.name))
        .union([AllowedRoots.key])

    /// `job`'s settings over `host`'s, except the host keys, which keep `host`'s values (or stay
    /// unset). Returns the host keys the job tried to set, for a warning.
    public static func merge(host: [String: String], job: [String: String]) -> (settings: [String: String], ignored: [String]) {
        var merged = host
        var ignored: [String] = []
        for (key, value) in job {
            if keys.contains(key) {
                if host[key] != value { ignored.append(key) }
            } else {
                merged[key] = value
            }
        }
        return (merged, ignored.sorted())
    }

    /// A task's settings as an executor runs them: the host keys the task carried are replaced
    /// by this executor's own (`host`), or dropped where it has none.
    public static func pin(_ task: [String: String], host: [String: String]) -> [String: String] {
        var pinned = task.filter { !keys.contains($0.key) }
        for key in keys { if let value = host[key] { pinned[key] = value } }
        return pinned
    }
}
