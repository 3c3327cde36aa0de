import Foundation

/// Every declared key: the one list the unknown-key check, the secret filter, what may travel
/// with a job and the README's table are all made from.
public enum ConfigurationKeys {
    public static let all: [KeyDeclaration] = SchedulerKeys.all + ExtractionKeys.all + ClusterKeys.all
        + StorageKeys.all + MonitorKeys.all + DatasetKeys.all + PipeKeys.all + ProvenanceKeys.all
        + SkyMergeKeys.all
        + StreamKeys.all
        + FrameKeys.all
        + HDUSplitKeys.all

    public static let names: Set<String> = Set(all.map(\.name))
    public static let secretNames: Set<String> = Set(all.filter(\.secret).map(\.name))
    private static let byName: [String: KeyDeclaration] = Dictionary(all.map { ($0.name, $0) }) { first, _ in first }

    public static func declaration(named name: String) -> KeyDeclaration? { byName[name] }

    /// Whether a setting may go with a job to another process (the master, an executor): declared
    /// job keys that are not secret, and keys we do not know (they were warned about; an
    /// operator of a newer build may read them). Secret, process-wide and local keys stay.
    public static func travels(_ name: String) -> Bool {
        guard let declaration = byName[name] else { return !looksSecret(name) }
        return declaration.jobSettable
    }

    /// An undeclared key whose name says it holds a secret never travels either.
    static func looksSecret(_ name: String) -> Bool {
        let lower = name.lowercased()
        return ["secret", "password", "token", "credential"].contains { lower.contains($0) }
    }

    /// The known key closest to `name`, when it is close enough to be a likely misspelling.
    public static func nearest(to name: String, in known: Set<String> = names) -> String? {
        let best = known.min { (editDistance(name, $0), $0) < (editDistance(name, $1), $1) }
        return best.flatMap { editDistance(name, $0) <= max(2, name.count / 5) ? $0 : nil }
    }
}

/// Levenshtein distance, for "did you mean" hints.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in stride(from: 1, through: b.count, by: 1) {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
