import Engine
import Foundation
import SkyMerge

/// A sky merge, complete enough to run anywhere: `sextant merge` runs it here or submits it to
/// a master, whose driver runs it the same way (`kind` tells the master's handler it is one).
public struct SkyMergeSpec: Codable, Sendable {
    public static let kind = "sky-merge"
    public var kind = SkyMergeSpec.kind
    public var jobID: String
    /// A finished job's output: its `_manifest.jsonl` lists the catalogs (without one, every
    /// `*.cat.fits` and `*.ldac.fits` under it is read).
    public var catalogs: String
    /// Where the tiles, `partition_info.csv`, `properties` and `_frames.csv` go.
    public var output: String
    public var order: Int
    /// Degrees.
    public var matchRadius: Double
    public var columns: SkyColumnNames
    /// Reduce tasks (each merges whole tiles); nil: 8.
    public var reducePartitions: Int?
    public var settings: [String: String]

    public init(jobID: String = JobDescription.makeJobID(), catalogs: String, output: String, order: Int,
                matchRadius: Double, columns: SkyColumnNames = SkyColumnNames(), reducePartitions: Int? = nil,
                settings: [String: String] = [:]) {
        self.jobID = jobID
        self.catalogs = catalogs
        self.output = output
        self.order = order
        self.matchRadius = matchRadius
        self.columns = columns
        self.reducePartitions = reducePartitions
        self.settings = settings
    }

    var mergeParameters: SkyMergeParameters { SkyMergeParameters(order: order, matchRadius: matchRadius) }

    /// The spec as a client sends it: absolute paths, only the settings that may travel.
    public func submissionPayload() throws -> Data {
        var shipped = self
        shipped.catalogs = JobSpec.absolute(catalogs)
        shipped.output = JobSpec.absolute(output)
        shipped.settings = settings.filter { ConfigurationKeys.travels($0.key) }
        return try JSONEncoder().encode(shipped)
    }

    /// The merge a master received, or nil when the payload is another kind of job.
    public static func submitted(_ payload: Data) -> SkyMergeSpec? {
        guard let spec = try? JSONDecoder().decode(SkyMergeSpec.self, from: payload), spec.kind == kind else { return nil }
        return spec
    }
}

/// What a merge did, for its summary line, `_merge.json` and the exit status.
public struct SkyMergeReport: Codable, Sendable {
    public var jobID: String
    public var status: JobStatus
    public var frames: Int
    public var detections: Int
    public var sources: Int
    public var tiles: Int
    /// Catalogs that could not be read, one line each (they are left out of the merge).
    public var problems: [String]
    public var seconds: Double
    public var shuffleBytes: Int
    /// Map partitions computed again after their first attempt (outputs lost with an executor or deleted).
    public var recomputedMapPartitions: [Int]
    public var stageAttempts: Int
    public var failureReason: String?
    public var output: String

    public var summary: String {
        var text = "merge \(jobID): \(status.rawValue): \(sources) sources in \(tiles) tiles from \(detections) "
            + "detections in \(frames) catalogs; "
            + String(format: "%.2f s, %d shuffle bytes (%.1f per detection)", seconds, shuffleBytes,
                     detections > 0 ? Double(shuffleBytes) / Double(detections) : 0)
        if !recomputedMapPartitions.isEmpty {
            text += "; recomputed map partitions \(recomputedMapPartitions.map(String.init).joined(separator: ","))"
        }
        text += "\nsky catalog in \(output)"
        if let failureReason { text += "\n  failed: \(failureReason)" }
        for problem in problems.prefix(5) { text += "\n  unreadable: \(problem)" }
        if problems.count > 5 { text += "\n  ... and \(problems.count - 5) more (see _merge.json)" }
        return text
    }
}
