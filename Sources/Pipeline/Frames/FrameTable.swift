import FITS
import Foundation
import Storage

/// Writes `_frames.fits` and `_frames.csv` beside the manifest: a row per image HDU of every
/// input (one row with HDU -1 for an input with no measured HDU: failed, excluded, not run).
/// A first pass over the entries fixes the row count, the keyword columns' types and the text
/// widths; rows then stream to temporary files, so memory does not grow with the table.
final class FrameTable {
    static let fitsName = "_frames.fits"
    static let csvName = "_frames.csv"

    private enum Field {
        case text(String, (Row) -> String?)
        case integer(String, (Row) -> Int)
        case real(String, unit: String, (Row) -> Double?)
        case logical(String, (Row) -> Bool)
        case keyword(String, numeric: Bool)

        var name: String {
            switch self {
            case .text(let name, _), .integer(let name, _), .real(let name, _, _), .logical(let name, _),
                 .keyword(let name, _): return name
            }
        }
    }

    /// One row: the entry and, when measured, one of its frames.
    struct Row {
        var entry: ManifestEntry
        var frame: FrameRow?
    }

    private let fields: [Field]
    private let fits: FITSTableStream
    private let fitsURL: URL
    private let csvURL: URL
    private let csv: FileHandle
    private var csvBuffer: [UInt8] = []

    /// `entry(i)` is the manifest entry the driver will write for input i (of `count`).
    init(count: Int, entry: (Int) -> ManifestEntry, keywords: [String]) throws {
        var widths = ["INPUT": 1, "EXTNAME": 1, "CATALOG": 1, "OUTCOME": 7, "REASON": 1]
        var numeric = Dictionary(uniqueKeysWithValues: keywords.map { ($0, true) })
        var rows = 0
        for index in 0..<count {
            let entry = entry(index)
            let frames = entry.frames ?? []
            rows += max(frames.count, 1)
            widths["INPUT"] = max(widths["INPUT"]!, entry.input.utf8.count)
            widths["CATALOG"] = max(widths["CATALOG"]!, entry.catalog?.utf8.count ?? 0)
            widths["REASON"] = max(widths["REASON"]!, min(Self.reason(entry)?.utf8.count ?? 0, Self.maxReason))
            for frame in frames {
                widths["EXTNAME"] = max(widths["EXTNAME"]!, frame.extname?.utf8.count ?? 0)
                for (name, value) in frame.keywords ?? [:] where numeric[name] != nil {
                    if case .text(let text) = value {
                        numeric[name] = false
                        widths[name] = max(widths[name] ?? 1, min(text.utf8.count, 68))
                    } else {
                        widths[name] = max(widths[name] ?? 1, min(value.description.utf8.count, 68))
                    }
                }
            }
        }
        var fields: [Field] = [
            .text("INPUT") { $0.entry.input },
            .integer("HDU") { $0.frame?.hdu ?? -1 },
            .text("EXTNAME") { $0.frame?.extname },
            .text("CATALOG") { $0.entry.catalog },
            .text("OUTCOME") { $0.entry.outcome.rawValue },
            .text("REASON") { Self.reason($0.entry) },
        ]
        fields += keywords.map { Field.keyword($0, numeric: numeric[$0] ?? true) }
        fields += [
            .real("MJD", unit: "d") { $0.frame?.mjd },
            .real("BACKGROUND", unit: "count") { $0.frame?.background },
            .real("BACKGROUND_RMS", unit: "count") { $0.frame?.rms },
            .integer("NSOURCES") { $0.frame?.sources ?? 0 },
            .real("FWHM", unit: "pixel") { $0.frame?.fwhm },
            .real("DEPTH_FLUX", unit: "count") { $0.frame?.depth },
            .real("DEPTH_MAG", unit: "mag") { $0.frame?.depthMagnitude },
            .real("MAG_ZEROPOINT", unit: "mag") { $0.frame?.zeroPoint },
            .logical("HAS_WCS") { $0.frame?.hasWCS ?? false },
            .real("RA_CENTER", unit: "deg") { $0.frame?.ra },
            .real("DEC_CENTER", unit: "deg") { $0.frame?.dec },
            .real("FLAGGED_FRACTION", unit: "") { $0.frame?.flagged },
            .real("SECONDS", unit: "s") { $0.entry.seconds },
        ]
        self.fields = fields

        let columns = fields.map { field -> FITSTableStream.Column in
            switch field {
            case .text(let name, _): return .init(name, .text(width: widths[name] ?? 1))
            case .integer(let name, _): return .init(name, .int32)
            case .real(let name, let unit, _): return .init(name, .double, unit: unit)
            case .logical(let name, _): return .init(name, .logical)
            case .keyword(let name, let isNumber):
                return .init(Self.columnName(name), isNumber ? .double : .text(width: widths[name] ?? 1))
            }
        }
        let directory = FileManager.default.temporaryDirectory
        let token = UUID().uuidString
        fitsURL = directory.appendingPathComponent("sextant-frames-\(token).fits")
        csvURL = directory.appendingPathComponent("sextant-frames-\(token).csv")
        fits = try FITSTableStream(path: fitsURL.path, columns: columns, rows: rows, extname: "FRAMES", comments: [
            "Sextant frame table: one row per input and image HDU (HDU -1: none measured).",
            "FWHM: median FWHM_IMAGE of unflagged point-like sources (NaN: none).",
            "DEPTH_FLUX: flux of a 5-sigma point source in the first aperture.",
        ])
        guard FileManager.default.createFile(atPath: csvURL.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: csvURL.path])
        }
        csv = try FileHandle(forWritingTo: csvURL)
        csvBuffer.append(contentsOf: (fields.map { CSVField.quoted(Self.columnName($0.name)) }.joined(separator: ",") + "\n").utf8)
    }

    /// The entry's rows, in order (call once per input, in manifest order).
    /// Each cell goes to both files as it is made: no line of strings joined (10^6 rows at a resume).
    func append(_ entry: ManifestEntry) throws {
        let frames = entry.frames ?? []
        var cells: [FITSTableStream.Cell] = []
        cells.reserveCapacity(fields.count)
        // A local array, not the property, while cells are appended (as `FITSTableStream.append`).
        var csvLine: [UInt8] = []
        swap(&csvLine, &csvBuffer)
        defer { swap(&csvLine, &csvBuffer) }
        for position in 0..<max(frames.count, 1) {
            let row = Row(entry: entry, frame: frames.isEmpty ? nil : frames[position])
            cells.removeAll(keepingCapacity: true)
            for (column, field) in fields.enumerated() {
                let cell = Self.cell(field, row)
                if column > 0 { csvLine.append(UInt8(ascii: ",")) }
                Self.appendCSV(cell, to: &csvLine)
                cells.append(cell)
            }
            try fits.append(cells)
            csvLine.append(UInt8(ascii: "\n"))
            if csvLine.count >= 1 << 20 {
                swap(&csvLine, &csvBuffer)
                defer { swap(&csvLine, &csvBuffer) }
                try flushCSV()
            }
        }
    }

    /// Puts both files into `output` (and removes the temporaries).
    func finish(into output: ObjectStore) throws {
        defer { discard() }
        try fits.finish()
        try flushCSV()
        try csv.close()
        try output.put(Self.fitsName, movingFrom: fitsURL)
        try output.put(Self.csvName, movingFrom: csvURL)
    }

    func discard() {
        try? csv.close()
        try? FileManager.default.removeItem(at: fitsURL)
        try? FileManager.default.removeItem(at: csvURL)
    }

    private func flushCSV() throws {
        try csv.write(contentsOf: csvBuffer)
        csvBuffer.removeAll(keepingCapacity: true)
    }

    private static let maxReason = 240

    /// A keyword's column: `-` becomes `_` (MJD-OBS -> MJD_OBS), as FITS column names allow only letters, digits and `_`.
    static func columnName(_ keyword: String) -> String { keyword.replacingOccurrences(of: "-", with: "_") }

    static func reason(_ entry: ManifestEntry) -> String? {
        (entry.reason ?? entry.error).map { String($0.prefix(maxReason)) }
    }

    private static func cell(_ field: Field, _ row: Row) -> FITSTableStream.Cell {
        switch field {
        case .text(_, let value): return value(row).map { .text($0) } ?? .null
        case .integer(_, let value): return .int(value(row))
        case .real(_, _, let value): return value(row).map { .double($0) } ?? .null
        case .logical(_, let value): return .bool(value(row))
        case .keyword(let name, let isNumber):
            guard let value = row.frame?.keywords?[name] else { return .null }
            switch value {
            case .number(let number): return isNumber ? .double(number) : .text(value.description)
            case .text(let text): return .text(text)
            }
        }
    }

    private static func appendCSV(_ cell: FITSTableStream.Cell, to line: inout [UInt8]) {
        switch cell {
        case .text(let text): CSVField.append(text, to: &line)
        case .double(let number): if number.isFinite { line.append(contentsOf: number.description.utf8) }
        case .int(let number): line.append(contentsOf: String(number).utf8)
        case .bool(let flag): line.append(contentsOf: (flag ? "true" : "false").utf8)
        case .null: break
        }
    }
}

/// RFC 4180 quoting: a field with a comma, quote or line break is quoted, quotes doubled.
enum CSVField {
    static func quoted(_ text: String) -> String {
        guard needsQuotes(text) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// `quoted(text)`'s bytes appended to `line`.
    static func append(_ text: String, to line: inout [UInt8]) {
        guard needsQuotes(text) else { return line.append(contentsOf: text.utf8) }
        line.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            if byte == UInt8(ascii: "\"") { line.append(byte) }
            line.append(byte)
        }
        line.append(UInt8(ascii: "\""))
    }

    /// By bytes, not Characters: "\r\n" is one Character, equal to neither "\r" nor "\n".
    private static func needsQuotes(_ text: String) -> Bool {
        text.utf8.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }
    }
}
