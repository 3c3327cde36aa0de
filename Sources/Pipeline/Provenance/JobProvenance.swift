import Foundation
import Hashing
import Storage

/// `OUT/_provenance.json`: what is the same for every input of a job, written once beside the
/// manifest rather than repeated on each of its lines (at 10^6 inputs that would add about a
/// kilobyte a line, a gigabyte a job). The manifest's lines keep only what is per input.
public struct JobProvenance: Codable, Equatable, Sendable {
    public static let fileName = "_provenance.json"
    public static let currentSchema = 1

    public var schema: Int
    /// `ManifestEntry.schemaVersion` of the `_manifest.jsonl` beside it.
    public var manifestSchema: Int?
    public var jobID: String
    /// The versions of the driver's software; each manifest line names its maker's by `softwareID`.
    public var software: SoftwareVersions
    public var softwareID: String
    /// The binary's build id (version and a hash of the executable): recorded, never compared.
    public var buildID: String
    /// The parameters, as an object, and the SHA-256 of their canonical JSON (PARHASH in catalogs).
    public var parameters: CatalogRecipe
    public var parametersSHA256: String
    /// The exact canonical JSON text `parametersSHA256` hashes.
    public var parametersJSON: String
    /// Set for a `--pipe` job: its command ran instead of SEP (`verify` and `--reproduce` refuse it).
    public var pipe: PipeJob?
    /// The job's settings without the secret keys (`JobSpec.secretKeys`).
    public var settings: [String: String]
    public var master: String?
    /// Whether every input's bytes were hashed (`sextant.provenance.inputChecksum`).
    public var inputChecksum: Bool
    /// The executors that made the job's catalogs.
    public var executors: [String]
    public var inputs: Int
    public var started: String
    public var finished: String
    /// SHA-256 of `_manifest.jsonl` as written with this file.
    public var manifestSHA256: String

    init(spec: JobSpec, entries: [ManifestEntry], manifest: Data, started: Date, finished: Date) throws {
        try self.init(spec: spec, executors: Set(entries.compactMap(\.executor)), inputs: entries.count,
                      manifestSHA256: Digest.sha256(manifest).hexString, started: started, finished: finished)
    }

    /// From what the driver tallied while it streamed the manifest out.
    init(spec: JobSpec, executors: Set<String>, inputs: Int, manifestSHA256: String,
         started: Date, finished: Date) throws {
        schema = Self.currentSchema
        manifestSchema = ManifestEntry.schemaVersion
        jobID = spec.jobID
        software = .current
        softwareID = software.id
        buildID = BuildIdentity.id
        parameters = CatalogRecipe(spec.parameters)
        parametersSHA256 = try parameters.sha256()
        parametersJSON = String(decoding: try parameters.canonicalJSON(), as: UTF8.self)
        pipe = spec.pipe
        settings = spec.shareableSettings
        master = settings["sextant.master"]
        inputChecksum = try ProvenanceSettings(spec.settings).inputChecksum
        self.executors = executors.sorted()
        self.inputs = inputs
        self.started = Timestamp.string(started)
        self.finished = Timestamp.string(finished)
        self.manifestSHA256 = manifestSHA256
    }

    /// Pretty JSON with sorted keys, for people and diffs.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(UInt8(ascii: "\n"))
        return data
    }
}
