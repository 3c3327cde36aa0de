import Foundation

/// Settings that belong to the machine, not the job: where a process's credentials go (S3
/// endpoint, profile, instance role, metadata address, keys), which directories it may touch,
/// where it keeps its own records. A submitted job cannot set them on the master, and a task
/// cannot set them on an executor: each process keeps its own values (or none).
public enum HostSettings {
    public static let keys: Set<String> = [
        "sextant.s3.endpoint", "sextant.s3.profile", "sextant.s3.instanceProfile", "sextant.s3.metadataEndpoint",
        "sextant.s3.accessKey", "sextant.s3.secretKey", "sextant.s3.sessionToken",
        "sextant.authenticate.secret", "sextant.authenticate.secretFile",
        AllowedRoots.key, "sextant.executor.localPaths",
        "sextant.master.historyDir", "sextant.eventLog.enabled", "sextant.eventLog.dir",
        "sextant.datasets.file", "sextant.datasets.dir",
    ]

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
