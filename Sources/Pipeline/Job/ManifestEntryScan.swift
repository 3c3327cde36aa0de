import Foundation

/// Reading one manifest entry's JSON (a task record from an executor, or a line of an earlier
/// `_manifest.jsonl`) with `JSONScanner`: typed fields straight from the bytes, the frame rows
/// kept as the bytes they arrived in (the manifest writes them back unchanged), one pass.
extension ManifestEntry {
    /// An entry as scanned: `entry.frames` is nil and `frames` holds their JSON array, when present.
    struct Scanned {
        var entry: ManifestEntry
        var frames: Data?
    }

    /// The entry in `json`; throws `JSONScanner.Malformed` (or a decoding error for `hdus`) when
    /// it is not one, with what and where.
    static func scan(_ json: Data) throws -> Scanned {
        try json.withUnsafeBytes { try scan(bytes: $0) }
    }

    /// `scan` of bytes read in place (a manifest line inside the range `ManifestLines` holds).
    static func scan(bytes json: UnsafeRawBufferPointer) throws -> Scanned {
        try JSONScanner.scan(bytes: json) { scanner in
            var input: String?, outcome: Outcome?, attempts: Int?
            var entry = ManifestEntry(input: "", outcome: .failed)
            var frames: Data?
            try scanner.members { scanner, key in
                if scanner.null() { return }  // JSONDecoder reads null as absent
                switch key {
                case "input": input = try scanner.string()
                case "outcome":
                    let text = try scanner.string()
                    guard let value = Outcome(rawValue: text) else { throw scanner.malformed("an unknown outcome") }
                    outcome = value
                case "attempts": attempts = try scanner.integer()
                case "catalog": entry.catalog = try scanner.string()
                case "rows": entry.rows = try scanner.integer()
                case "bytes": entry.bytes = try scanner.integer()
                case "sha256": entry.sha256 = try scanner.string()
                case "seconds": entry.seconds = try scanner.double()
                case "waitSeconds": entry.waitSeconds = try scanner.double()
                case "executor": entry.executor = try scanner.string()
                case "error": entry.error = try scanner.string()
                case "outputs": entry.outputs = try scanner.strings()
                case "exitStatus": entry.exitStatus = try scanner.integer()
                case "signal": entry.signal = try scanner.integer()
                case "command": entry.command = try scanner.string()
                case "stderr": entry.stderr = try scanner.string()
                case "reason": entry.reason = try scanner.string()
                case "split": entry.split = try scanner.bool()
                case "provenance": entry.provenance = try InputProvenance.scan(&scanner)
                case "frames": frames = try Self.canonicalFrames(try scanner.rawValue())
                // Multi-HDU inputs only: small arrays, read by their Codable conformance.
                case "hdus": entry.hdus = try JSONDecoder().decode([HDUSummary].self, from: try scanner.rawValue())
                case "splitParts": entry.splitParts = try JSONDecoder().decode([SplitPart].self, from: try scanner.rawValue())
                default: try scanner.skipValue()  // a later schema's field: ignored, as JSONDecoder does
                }
            }
            guard let input else { throw scanner.malformed("no \"input\"") }
            guard let outcome else { throw scanner.malformed("no \"outcome\"") }
            guard let attempts else { throw scanner.malformed("no \"attempts\"") }
            entry.input = input
            entry.outcome = outcome
            entry.attempts = attempts
            return Scanned(entry: entry, frames: frames)
        }
    }

    /// Only the `input` of an entry's JSON (a monitor's task list), or nil when it has none.
    public static func scanInput(_ json: Data) -> String? {
        try? JSONScanner.scan(json) { scanner in
            var input: String?
            try scanner.members { scanner, key in
                if key == "input", input == nil { input = try scanner.string() } else { try scanner.skipValue() }
            }
            return input
        }
    }

    /// Frame rows as the manifest writes them: an executor's encoder escapes "/" (the manifest's
    /// does not), so rows with any escape go through the line encoder once; the rest are kept as is.
    static func canonicalFrames(_ json: Data) throws -> Data? {
        if json.first == UInt8(ascii: "n") { return nil }
        // memchr, not Data's iterator (a byte at a time, with an exclusivity check each).
        guard json.withUnsafeBytes({ bytes in bytes.baseAddress.map { memchr($0, 0x5C, bytes.count) != nil } ?? false }) else { return json }
        return try lineEncoder().encode(try FrameRow.scanList(json))
    }
}

extension InputProvenance {
    static func scan(_ scanner: inout JSONScanner) throws -> InputProvenance {
        var size: Int?, path: String?, software: String?, started: String?
        var provenance = InputProvenance(inputSHA256: nil, inputSize: 0, path: "", software: "", started: "")
        try scanner.members { scanner, key in
            if scanner.null() { return }
            switch key {
            case "inputSHA256": provenance.inputSHA256 = try scanner.string()
            case "inputSize": size = try scanner.integer()
            case "inputETag": provenance.inputETag = try scanner.string()
            case "inputModified": provenance.inputModified = try scanner.string()
            case "path": path = try scanner.string()
            case "software": software = try scanner.string()
            case "started": started = try scanner.string()
            case "finished": provenance.finished = try scanner.string()
            default: try scanner.skipValue()
            }
        }
        guard let size, let path, let software, let started else {
            throw scanner.malformed("a provenance without inputSize, path, software and started")
        }
        provenance.inputSize = Int64(size)
        provenance.path = path
        provenance.software = software
        provenance.started = started
        return provenance
    }
}

extension FrameRow {
    /// The rows of a frame-table JSON array (`ManifestEntry.frames`).
    static func scanList(_ json: Data) throws -> [FrameRow] {
        try JSONScanner.scan(json) { scanner in
            var rows: [FrameRow] = []
            try scanner.elements { scanner in
                guard rows.count < maxFrames else { throw scanner.malformed("more than \(maxFrames) frame rows") }
                rows.append(try scan(&scanner))
            }
            return rows
        }
    }

    static func scan(_ scanner: inout JSONScanner) throws -> FrameRow {
        var hdu: Int?, background: Double?, rms: Double?, sources: Int?, depth: Double?, flagged: Double?
        var row = FrameRow(hdu: 0, extname: nil, background: 0, rms: 0, sources: 0, fwhm: nil, depth: 0,
                           zeroPoint: nil, flagged: 0)
        try scanner.members { scanner, key in
            if scanner.null() { return }
            switch key {
            case "hdu": hdu = try scanner.integer()
            case "extname": row.extname = try scanner.string()
            case "background": background = try scanner.double()
            case "rms": rms = try scanner.double()
            case "sources": sources = try scanner.integer()
            case "fwhm": row.fwhm = try scanner.double()
            case "depth": depth = try scanner.double()
            case "zeroPoint": row.zeroPoint = try scanner.double()
            case "ra": row.ra = try scanner.double()
            case "dec": row.dec = try scanner.double()
            case "corners":
                var corners: [Double] = []
                try scanner.elements { scanner in
                    guard corners.count < 8 else { throw scanner.malformed("more than 8 corner coordinates") }
                    corners.append(try scanner.double())
                }
                row.corners = corners
            case "flagged": flagged = try scanner.double()
            case "mjd": row.mjd = try scanner.double()
            case "keywords":
                var keywords: [String: FrameValue] = [:]
                try scanner.members { scanner, name in
                    guard keywords.count < maxKeywords else { throw scanner.malformed("more than \(maxKeywords) keywords") }
                    keywords[name] = scanner.peek() == UInt8(ascii: "\"") ? .text(try scanner.string())
                        : .number(try scanner.double())
                }
                row.keywords = keywords
            default: try scanner.skipValue()
            }
        }
        guard let hdu, let background, let rms, let sources, let depth, let flagged else {
            throw scanner.malformed("a frame row without hdu, background, rms, sources, depth and flagged")
        }
        row.hdu = hdu
        row.background = background
        row.rms = rms
        row.sources = sources
        row.depth = depth
        row.flagged = flagged
        return row
    }
}

extension JSONScanner {
    mutating func strings() throws -> [String] {
        var values: [String] = []
        try elements { values.append(try $0.string()) }
        return values
    }
}
