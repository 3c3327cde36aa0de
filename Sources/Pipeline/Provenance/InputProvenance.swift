import Engine
import Foundation

/// Where one catalog came from, on its manifest line (`provenance`): the input's bytes as read,
/// the path the catalog is named after, the software that made it, and when. Job-wide facts
/// (parameters, settings, full versions) are in `_provenance.json` once, not on every line.
public struct InputProvenance: Codable, Equatable, Sendable {
    /// SHA-256 of the input's bytes as Sextant read them (compressed bytes for .gz and .fz);
    /// nil when the job turned the checksum off (`sextant.provenance.inputChecksum false`).
    public var inputSHA256: String?
    public var inputSize: Int64
    /// The object's ETag (S3 inputs).
    public var inputETag: String?
    /// The file's modification time, ISO 8601 UTC (file inputs).
    public var inputModified: String?
    /// The input's path relative to its root: the name its catalog takes and its INPUT header card.
    public var path: String
    /// `SoftwareVersions.id` of the process that made the catalog.
    public var software: String
    /// When the input's read began and its catalog was committed, ISO 8601 UTC.
    public var started: String
    public var finished: String?

    public init(inputSHA256: String?, inputSize: Int64, inputETag: String? = nil, inputModified: String? = nil,
                path: String, software: String = SoftwareVersions.current.id,
                started: String, finished: String? = nil) {
        self.inputSHA256 = inputSHA256
        self.inputSize = inputSize
        self.inputETag = inputETag
        self.inputModified = inputModified
        self.path = path
        self.software = software
        self.started = started
        self.finished = finished
    }
}

/// What a job records about its inputs: `sextant.provenance.inputChecksum` (default true)
/// hashes every input's bytes; off, only size and ETag or mtime are recorded.
public struct ProvenanceSettings: Sendable, Equatable {
    public static let inputChecksumKey = ProvenanceKeys.inputChecksum.name
    public var inputChecksum: Bool

    public init(inputChecksum: Bool = true) { self.inputChecksum = inputChecksum }

    public init(_ settings: [String: String]) throws {
        self.init(inputChecksum: try Configuration(settings).value(of: ProvenanceKeys.inputChecksum))
    }
}

/// ISO 8601 UTC with milliseconds, the manifest's one date format.
enum Timestamp {
    static func string(_ date: Date = Date()) -> String {
        Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(date)
    }
}
