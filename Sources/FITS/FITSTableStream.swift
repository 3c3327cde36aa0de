import Foundation

/// Writes a FITS binary table (after an empty primary HDU) row by row to a file, so a table of
/// millions of rows never sits in memory: the caller knows the row count and the columns' types
/// and text widths before the first row (NAXIS2 and TFORMn lead the header). Big-endian cells as
/// the standard requires; NaN for a missing real, an empty string for missing text.
public final class FITSTableStream {
    public enum ColumnType: Sendable, Equatable {
        /// `width` bytes of ASCII (TFORM nA), space-padded.
        case text(width: Int)
        case double   // D
        case int32    // J
        case logical  // L
    }

    public struct Column: Sendable {
        public var name: String
        public var type: ColumnType
        public var unit: String

        public init(_ name: String, _ type: ColumnType, unit: String = "") {
            self.name = name
            self.type = type
            self.unit = unit
        }

        var width: Int {
            switch type {
            case .text(let width): return max(width, 1)
            case .double: return 8
            case .int32: return 4
            case .logical: return 1
            }
        }

        var format: String {
            switch type {
            case .text: return "\(width)A"
            case .double: return "D"
            case .int32: return "J"
            case .logical: return "L"
            }
        }
    }

    public enum Cell: Sendable, Equatable {
        case text(String)
        case double(Double)
        case int(Int)
        case bool(Bool)
        case null
    }

    private let columns: [Column]
    private let rows: Int
    private let handle: FileHandle
    private let path: String
    private var written = 0
    /// Bytes, not `Data`: a cell is a few appends, and each of `Data`'s pays an exclusivity check.
    private var buffer: [UInt8] = []

    /// Creates (or truncates) `path` and writes both headers.
    public init(path: String, columns: [Column], rows: Int, extname: String, comments: [String] = []) throws {
        self.columns = columns
        self.rows = rows
        self.path = path
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw FITSError(file: path, reason: .unwritable("cannot create the file"))
        }
        self.handle = handle
        var primary = HeaderBlock()
        primary.add("SIMPLE", logical: true)
        primary.add("BITPIX", integer: 8)
        primary.add("NAXIS", integer: 0)
        primary.add("EXTEND", logical: true)
        var table = HeaderBlock()
        table.add("XTENSION", text: "BINTABLE")
        table.add("BITPIX", integer: 8)
        table.add("NAXIS", integer: 2)
        table.add("NAXIS1", integer: columns.reduce(0) { $0 + $1.width })
        table.add("NAXIS2", integer: rows)
        table.add("PCOUNT", integer: 0)
        table.add("GCOUNT", integer: 1)
        table.add("TFIELDS", integer: columns.count)
        for (index, column) in columns.enumerated() {
            table.add("TTYPE\(index + 1)", text: column.name)
            table.add("TFORM\(index + 1)", text: column.format)
            if !column.unit.isEmpty { table.add("TUNIT\(index + 1)", text: column.unit) }
        }
        table.add("EXTNAME", text: extname)
        for comment in comments { table.comment(comment) }
        buffer.append(contentsOf: primary.finished())
        buffer.append(contentsOf: table.finished())
    }

    /// One row, a cell per column in order; a cell of the wrong kind is written as missing.
    public func append(_ cells: [Cell]) throws {
        guard written < rows else {
            throw FITSError(file: path, reason: .invalidInput("more than the \(rows) rows announced"))
        }
        // Encoded into a local array, not the property: each access to a class's stored array
        // pays an exclusivity check, and a row is dozens of appends (10^6 rows at a resume).
        var row: [UInt8] = []
        swap(&row, &buffer)
        for (index, column) in columns.enumerated() {
            Self.encode(index < cells.count ? cells[index] : .null, as: column, into: &row)
        }
        swap(&row, &buffer)
        written += 1
        if buffer.count >= 1 << 20 { try flush() }
    }

    /// Pads the data to a whole block and closes the file.
    public func finish() throws {
        guard written == rows else {
            throw FITSError(file: path, reason: .invalidInput("\(written) rows written of the \(rows) announced"))
        }
        let dataBytes = rows * columns.reduce(0) { $0 + $1.width }
        let padding = (2880 - dataBytes % 2880) % 2880
        buffer.append(contentsOf: repeatElement(0, count: padding))
        try flush()
        try handle.close()
    }

    private func flush() throws {
        do { try handle.write(contentsOf: buffer) } catch {
            throw FITSError(file: path, reason: .unwritable(error.localizedDescription))
        }
        buffer.removeAll(keepingCapacity: true)
    }

    private static func encode(_ cell: Cell, as column: Column, into buffer: inout [UInt8]) {
        switch column.type {
        case .text(let width):
            let width = max(width, 1)
            var count = 0
            if case .text(let value) = cell {
                let utf8 = value.utf8
                if utf8.count <= width, utf8.allSatisfy({ $0 >= 0x20 && $0 <= 0x7E }) {
                    buffer.append(contentsOf: utf8)  // printable ASCII that fits: as it is
                    buffer.append(contentsOf: repeatElement(0x20, count: width - utf8.count))
                    return
                }
                for byte in utf8 where count < width {
                    buffer.append(byte < 0x20 || byte > 0x7E ? UInt8(ascii: "?") : byte)
                    count += 1
                }
            }
            buffer.append(contentsOf: repeatElement(0x20, count: width - count))
        case .double:
            let value: Double
            switch cell {
            case .double(let number): value = number
            case .int(let number): value = Double(number)
            default: value = .nan
            }
            withUnsafeBytes(of: value.bitPattern.bigEndian) { buffer.append(contentsOf: $0) }
        case .int32:
            var value: Int32 = 0
            if case .int(let number) = cell { value = Int32(clamping: number) }
            withUnsafeBytes(of: value.bigEndian) { buffer.append(contentsOf: $0) }
        case .logical:
            switch cell {
            case .bool(let flag): buffer.append(UInt8(ascii: flag ? "T" : "F"))
            default: buffer.append(0)
            }
        }
    }
}

/// 80-character header records, padded to whole 2880-byte blocks after END.
private struct HeaderBlock {
    private var text = ""

    mutating func add(_ keyword: String, logical: Bool) { value(keyword, String(repeating: " ", count: 19) + (logical ? "T" : "F")) }
    mutating func add(_ keyword: String, integer: Int) {
        let digits = String(integer)
        value(keyword, String(repeating: " ", count: max(0, 20 - digits.count)) + digits)
    }
    mutating func add(_ keyword: String, text value: String) {
        let clean = String(value.unicodeScalars.filter { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F }.map(Character.init).prefix(60))
        let quoted = "'" + clean.replacingOccurrences(of: "'", with: "''").padding(toLength: max(8, clean.count), withPad: " ", startingAt: 0) + "'"
        self.value(keyword, String(quoted.prefix(70)))
    }
    mutating func comment(_ line: String) { record("COMMENT " + line) }

    private mutating func value(_ keyword: String, _ value: String) {
        record(keyword.padding(toLength: 8, withPad: " ", startingAt: 0) + "= " + value)
    }

    private mutating func record(_ line: String) {
        text += String(line.prefix(80)).padding(toLength: 80, withPad: " ", startingAt: 0)
    }

    func finished() -> Data {
        var all = text + "END".padding(toLength: 80, withPad: " ", startingAt: 0)
        all += String(repeating: " ", count: (2880 - all.utf8.count % 2880) % 2880)
        return Data(all.utf8)
    }
}
