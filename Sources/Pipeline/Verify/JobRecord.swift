import Foundation
import Storage

/// A finished job as its output records it: `_manifest.jsonl` and `_provenance.json`,
/// read from a directory or an s3:// prefix.
public struct JobRecord: Sendable {
    /// Where the job's catalogs are (the manifest's directory or prefix).
    public var output: String
    public var entries: [ManifestEntry]
    public var provenance: JobProvenance

    /// Reads the record of the job whose catalogs are in `output`.
    public static func load(output: String, settings: [String: String]) throws -> JobRecord {
        let store = try StoreCache.shared.store(for: output, settings: settings)
        func read(_ name: String) throws -> Data {
            do {
                return try store.get(name)
            } catch let error as StorageError where error.kind == .notFound {
                throw RecordError.missing(joined(output, name), why: name == JobProvenance.fileName
                    ? "the job was made by a Sextant without provenance, or did not finish" : "not a job's output")
            }
        }
        let manifest = try read(ExtractionDriver.manifestName)
        let entries: [ManifestEntry]
        do {
            entries = try ManifestEntry.decodeLines(manifest)
        } catch {
            throw RecordError.unreadable(joined(output, ExtractionDriver.manifestName), why: "\(error)")
        }
        let provenance: JobProvenance
        do {
            provenance = try JSONDecoder().decode(JobProvenance.self, from: try read(JobProvenance.fileName))
        } catch let error as RecordError {
            throw error
        } catch {
            throw RecordError.unreadable(joined(output, JobProvenance.fileName), why: "\(error)")
        }
        if provenance.pipe != nil {
            throw RecordError.unreadable(joined(output, JobProvenance.fileName),
                                         why: "a --pipe job: verify and --reproduce re-run SEP jobs only")
        }
        return JobRecord(output: output, entries: entries, provenance: provenance)
    }

    /// Reads the record from the path or URI of its `_manifest.jsonl`.
    public static func load(manifest: String, settings: [String: String]) throws -> JobRecord {
        let suffix = "/" + ExtractionDriver.manifestName
        let output: String
        if manifest.hasSuffix(suffix) { output = String(manifest.dropLast(suffix.count)) }
        else if manifest == ExtractionDriver.manifestName { output = "." }
        else { throw RecordError.unreadable(manifest, why: "not a \(ExtractionDriver.manifestName)") }
        return try load(output: output.isEmpty ? "/" : output, settings: settings)
    }

    /// The inputs that had a catalog, as the job saw them, each with its manifest entry.
    var catalogued: [(input: InputFile, entry: ManifestEntry)] {
        entries.compactMap { entry in
            guard entry.outcome == .committed || entry.outcome == .skipped, let provenance = entry.provenance else { return nil }
            return (InputFile(uri: entry.input, relativePath: provenance.path, size: provenance.inputSize), entry)
        }
    }

    /// Catalogued entries that carry no provenance (an older Sextant made them).
    var withoutProvenance: [ManifestEntry] {
        entries.filter { ($0.outcome == .committed || $0.outcome == .skipped) && $0.provenance == nil }
    }

    static func joined(_ output: String, _ name: String) -> String {
        output.hasSuffix("/") ? output + name : output + "/" + name
    }
}

public enum RecordError: Error, CustomStringConvertible, Equatable {
    case missing(String, why: String)
    case unreadable(String, why: String)

    public var description: String {
        switch self {
        case .missing(let path, let why): return "\(path): missing (\(why))"
        case .unreadable(let path, let why): return "\(path): unreadable: \(why)"
        }
    }
}
