import Foundation
import Hashing

/// One line of `_manifest.jsonl`: what happened to one input, so nothing is silently lost.
public struct ManifestEntry: Codable, Equatable, Sendable {
    public enum Outcome: String, Codable, Sendable {
        /// A catalog was committed by this run.
        case committed
        /// A catalog was already committed by an earlier run (`--resume`).
        case skipped
        /// The input could not be turned into a catalog; `error` says why.
        case failed
        /// The job stopped (cancelled, fail-fast, interrupted) before this input ran; `--resume` runs it.
        case notRun = "not-run"
        /// `--where` left the input out at plan time; `reason` says why.
        case excluded
    }

    public var input: String
    public var catalog: String?
    public var outcome: Outcome
    public var attempts: Int
    public var rows: Int?
    public var bytes: Int?
    /// SHA-256 of the committed catalog's bytes.
    public var sha256: String?
    public var seconds: Double?
    /// Of `seconds`, how long the task waited for the input's bytes from a store (absent when it
    /// did not wait, and for local files, which CFITSIO reads itself).
    public var waitSeconds: Double?
    public var executor: String?
    /// Why the input failed: one line that names the input once (see `errorLine`), so the
    /// manifest, the summary and the UI show it as is.
    public var error: String?
    /// Manifest schema 2: a catalog made from several image HDUs lists them (absent for one).
    public var hdus: [HDUSummary]?
    /// A `--pipe` job's outputs when the command writes more than one (`catalog` is the first).
    public var outputs: [String]?
    /// How a `--pipe` program that failed ended: its exit status, or the signal that killed it.
    public var exitStatus: Int?
    public var signal: Int?
    /// The `--pipe` command line that failed, and the last lines of its stderr (at most 20 lines, 4 KB).
    public var command: String?
    public var stderr: String?
    /// Where the catalog came from: the input's checksum, size, ETag or mtime, path, software, times.
    public var provenance: InputProvenance?
    /// The frame table's measurements, one per image HDU (`_frames.fits`).
    public var frames: [FrameRow]?
    /// Why `--where` excluded the input (its header values, or why its header could not be read).
    public var reason: String?
    /// Manifest schema 3: true when the input's image HDUs went to tasks of their own
    /// (`sextant.extract.splitHDUsAbove`), each with its own catalog: `hdus` names them, `outputs`
    /// lists them, `catalog` is the first. Absent otherwise.
    public var split: Bool?
    /// In a task's record only (never in the manifest): the HDUs the task that split the input handed back or kept.
    public var splitParts: [SplitPart]?

    public init(input: String, catalog: String? = nil, outcome: Outcome, attempts: Int = 1,
                rows: Int? = nil, bytes: Int? = nil, sha256: String? = nil, seconds: Double? = nil,
                executor: String? = nil, error: String? = nil, outputs: [String]? = nil,
                hdus: [HDUSummary]? = nil) {
        self.input = input
        self.catalog = catalog
        self.outcome = outcome
        self.attempts = attempts
        self.rows = rows
        self.bytes = bytes
        self.sha256 = sha256
        self.seconds = seconds
        self.executor = executor
        self.error = error
        self.outputs = outputs
        self.hdus = hdus
    }

    /// The manifest schema this build writes: 2 added `hdus`; 3 added `split` and, in `hdus`, each
    /// split HDU's `catalog`, `bytes` and `sha256`. Readers of schema 1 and 2 ignore them.
    public static let schemaVersion = 3
}

/// One image HDU of a split input, as the task that opened the file reports it.
public struct SplitPart: Codable, Equatable, Sendable {
    public var hdu: Int
    public var catalog: String
    /// Its catalog's size when it was already committed (`--resume`): kept, not handed back.
    public var keptBytes: Int?

    public init(hdu: Int, catalog: String, keptBytes: Int? = nil) {
        self.hdu = hdu
        self.catalog = catalog
        self.keptBytes = keptBytes
    }
}

/// One image HDU of a multi-extension input, as its catalog file holds it.
public struct HDUSummary: Codable, Equatable, Sendable {
    /// 0 = primary.
    public var hdu: Int
    public var extname: String?
    /// Nil only for a split input's HDU kept from an earlier run whose manifest did not say.
    public var rows: Int?
    /// Schema 3, a split input's HDU: its own catalog, that catalog's size and SHA-256.
    public var catalog: String?
    public var bytes: Int?
    public var sha256: String?

    public init(hdu: Int, extname: String?, rows: Int?, catalog: String? = nil, bytes: Int? = nil,
                sha256: String? = nil) {
        self.hdu = hdu
        self.extname = extname
        self.rows = rows
        self.catalog = catalog
        self.bytes = bytes
        self.sha256 = sha256
    }

    init(_ field: CatalogField) {
        self.init(hdu: field.provenance.hdu, extname: field.provenance.extname, rows: field.catalog.count)
    }
}

extension ManifestEntry {
    /// `message` as a one-line error naming `input` once: as is when it already starts with
    /// the input (its URI, or the path of a file:// URI), else prefixed with it.
    public static func errorLine(input: String, message: String) -> String {
        let line = message.split(whereSeparator: \.isNewline).joined(separator: " ")
        let path = input.hasPrefix("file://") ? String(input.dropFirst("file://".count)) : input
        if line.hasPrefix(input + ":") || line.hasPrefix(path + ":") { return line }
        return "\(input): \(line)"
    }

    /// JSON lines with sorted keys, so a manifest diffs cleanly between runs.
    public static func encodeLines(_ entries: [ManifestEntry]) throws -> Data {
        var line: [UInt8] = []
        for entry in entries {
            try entry.appendJSON(to: &line)
            line.append(UInt8(ascii: "\n"))
        }
        return Data(line)
    }

    static func lineEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public static func decodeLines(_ data: Data) throws -> [ManifestEntry] {
        let decoder = JSONDecoder()
        return try data.split(separator: UInt8(ascii: "\n")).map { try decoder.decode(ManifestEntry.self, from: Data($0)) }
    }
}

extension ManifestEntry {
    /// Writes manifest lines to a temporary file as they come, for `ObjectStore.put(_:contentsOf:)`:
    /// a million-input manifest never sits in memory whole.
    final class LineWriter {
        private let url: URL
        private let handle: FileHandle
        private var buffer: [UInt8] = []
        private let hasher = SHA256Hasher()
        /// SHA-256 of every line written, once `finish` has run.
        private(set) var sha256 = ""

        init() throws {
            url = FileManager.default.temporaryDirectory.appendingPathComponent("sextant-manifest-\(UUID().uuidString).jsonl")
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
            }
            handle = try FileHandle(forWritingTo: url)
            buffer.reserveCapacity(1 << 20)
        }

        /// `frames`: the entry's frame rows as JSON, when the caller holds them so (`EntryTable`).
        func append(_ entry: ManifestEntry, frames: Data? = nil) throws {
            try entry.appendJSON(to: &buffer, frames: frames)
            buffer.append(UInt8(ascii: "\n"))
            if buffer.count >= 1 << 20 { try flush() }
        }

        /// A line already encoded (an earlier manifest's, copied as it is), without its newline.
        func appendLine(_ line: UnsafeRawBufferPointer) throws {
            buffer.append(contentsOf: line)
            buffer.append(UInt8(ascii: "\n"))
            if buffer.count >= 1 << 20 { try flush() }
        }

        /// The finished file; it stays until `discard`.
        func finish() throws -> URL {
            try flush()
            sha256 = hasher.finalize().hexString
            try handle.close()
            return url
        }

        func discard() {
            try? handle.close()
            try? FileManager.default.removeItem(at: url)
        }

        private func flush() throws {
            hasher.update(buffer)
            try handle.write(contentsOf: buffer)
            buffer.removeAll(keepingCapacity: true)
        }
    }
}
