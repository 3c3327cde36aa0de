import Foundation

/// Executors are not trusted with the master's bookkeeping: a partition's records must be one
/// manifest entry per input, in order, each naming its input and the catalog name the driver
/// expects, with a committed or failed outcome and sane numbers. Anything else fails the
/// partition's inputs with the reason, so a broken or malicious executor can neither crash the
/// driver (overflowing sums) nor claim catalogs of inputs it was not given.
enum RecordValidation {
    static let maxRows = 100_000_000
    static let maxBytes = 1 << 40
    static let maxSeconds = 1e7
    static let maxErrorCharacters = 2000

    struct Invalid: Error, CustomStringConvertible {
        let reason: String
        var description: String { reason }
    }

    /// One input's checked record: `entry.frames` decoded (progress, split inputs), and the same
    /// rows as the JSON they arrived in (what the driver keeps and the manifest writes).
    struct Checked {
        var entry: ManifestEntry
        var framesJSON: Data?
    }

    /// The entries of `records`, checked against the `inputs` of their partition and the output
    /// names the driver expects for each (`JobSpec.outputNames`: a catalog, or a pipe's outputs).
    static func entries(_ records: [Data], inputs: [InputFile],
                        outputNames: (InputFile) -> [String]) throws -> [ManifestEntry] {
        try checked(records, inputs: inputs, outputNames: outputNames).map(\.entry)
    }

    static func checked(_ records: [Data], inputs: [InputFile],
                        outputNames: (InputFile) -> [String]) throws -> [Checked] {
        guard records.count == inputs.count else {
            throw Invalid(reason: "\(records.count) records for \(inputs.count) inputs")
        }
        return try zip(records, inputs).map { data, input in
            let scanned: ManifestEntry.Scanned
            var entry: ManifestEntry
            do {
                scanned = try ManifestEntry.scan(data)
                entry = scanned.entry
                entry.frames = try scanned.frames.map(FrameRow.scanList)
            } catch {
                throw Invalid(reason: "an undecodable record for \(input.uri): \(String("\(error)".prefix(200)))")
            }
            try check(entry, input: input, outputs: outputNames(input))
            return Checked(entry: entry.bounded(), framesJSON: scanned.frames)
        }
    }

    static func check(_ entry: ManifestEntry, input: InputFile, outputs: [String]) throws {
        guard entry.input == input.uri else { throw Invalid(reason: "a record for \(entry.input.prefix(200)) in place of \(input.uri)") }
        guard let catalog = outputs.first, entry.catalog == catalog else {
            throw Invalid(reason: "\(input.uri): catalog \(entry.catalog?.prefix(200) ?? "none") instead of \(outputs.first ?? "none")")
        }
        // A pipe's outputs are the names the driver expects; a failed entry may leave them out (a refused input).
        guard (entry.outputs ?? (entry.outcome == .failed ? outputs : [catalog])) == outputs else {
            throw Invalid(reason: "\(input.uri): outputs other than \(outputs.joined(separator: ", ").prefix(400))")
        }
        guard entry.outcome == .committed || entry.outcome == .failed else {
            throw Invalid(reason: "\(input.uri): outcome \(entry.outcome.rawValue) from an executor")
        }
        guard entry.isSane else { throw Invalid(reason: "\(input.uri): numbers out of range") }
    }
}

extension ManifestEntry {
    /// Counts and times within what any real catalog has; a checksum that is 64 hex digits.
    var isSane: Bool {
        func within(_ value: Int?, _ limit: Int) -> Bool { value.map { (0...limit).contains($0) } ?? true }
        let hex = Set("0123456789abcdef")
        return within(rows, RecordValidation.maxRows) && within(bytes, RecordValidation.maxBytes)
            && (seconds.map { $0.isFinite && $0 >= 0 && $0 <= RecordValidation.maxSeconds } ?? true)
            && (sha256.map { $0.count == 64 && $0.allSatisfy(hex.contains) } ?? true)
            && (frames.map(FrameRow.areSane) ?? true)
    }

    /// Clamped into range and with a bounded error text: safe for progress displays and sums
    /// even before the driver has checked it against its input.
    func bounded() -> ManifestEntry {
        var entry = self
        func clamp(_ value: Int?, _ limit: Int) -> Int? { value.map { min(max($0, 0), limit) } }
        entry.rows = clamp(rows, RecordValidation.maxRows)
        entry.bytes = clamp(bytes, RecordValidation.maxBytes)
        entry.seconds = seconds.map { $0.isFinite ? min(max($0, 0), RecordValidation.maxSeconds) : 0 }
        entry.error = error.map { String($0.prefix(RecordValidation.maxErrorCharacters)) }
        entry.executor = executor.map { String($0.prefix(300)) }
        entry.command = command.map { String($0.prefix(RecordValidation.maxErrorCharacters)) }
        entry.stderr = stderr.map { String($0.prefix(StderrTail.maxBytes)) }
        return entry
    }
}

extension Sequence {
    /// The sum of `value` over the elements, stopping at Int.max instead of trapping.
    func saturatingSum(_ value: (Element) -> Int) -> Int {
        reduce(0) { total, element in
            let (sum, overflow) = total.addingReportingOverflow(Swift.max(0, value(element)))
            return overflow ? Int.max : sum
        }
    }
}
