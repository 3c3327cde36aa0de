import CFITSIO
import Foundation

/// One column of a binary table: a name (TTYPE), its values, how many values each row holds
/// (1 for a scalar; n for a vector column such as FLUX_APER with one flux per radius, TFORM "nE"),
/// and a unit (TUNIT).
public struct FITSColumn: Sendable {
    public enum Values: Sendable {
        case int16([Int16])   // TFORM I
        case int32([Int32])   // TFORM J
        case int64([Int64])   // TFORM K
        case float([Float])   // TFORM E
        case double([Double]) // TFORM D
    }

    public var name: String
    /// Row by row: row r's values are `values[r * count ..< (r + 1) * count]`.
    public var values: Values
    public var count: Int
    public var unit: String
    /// The shape of each cell when it is an image (TDIMn), e.g. [35, 35] for VIGNET(35,35).
    public var dimensions: [Int]?

    public init(_ name: String, _ values: Values, count: Int = 1, unit: String = "", dimensions: [Int]? = nil) {
        self.name = name
        self.values = values
        self.count = count
        self.unit = unit
        self.dimensions = dimensions
    }

    /// The TFORM value, e.g. "D", "J" or "3E".
    public var format: String {
        count == 1 ? typeCode : "\(count)\(typeCode)"
    }

    var valueCount: Int {
        switch values {
        case .int16(let v): return v.count
        case .int32(let v): return v.count
        case .int64(let v): return v.count
        case .float(let v): return v.count
        case .double(let v): return v.count
        }
    }

    private var typeCode: String {
        switch values {
        case .int16: return "I"
        case .int32: return "J"
        case .int64: return "K"
        case .float: return "E"
        case .double: return "D"
        }
    }
}

/// Writes a FITS file holding one binary-table extension (after an empty primary HDU), e.g. a
/// source catalog. The output depends only on the input: no DATE or other clock-derived keyword.
public struct FITSTableWriter: Sendable {
    public var columns: [FITSColumn]
    /// Extra header cards for the table HDU (input file, HDU, parameters, software version...).
    public var keywords: [FITSCard]
    public var extname: String?

    public init(columns: [FITSColumn], keywords: [FITSCard] = [], extname: String? = nil) {
        self.columns = columns
        self.keywords = keywords
        self.extname = extname
    }

    /// The number of rows (every column must have `rowCount * count` values).
    public var rowCount: Int {
        columns.first.map { $0.valueCount / max($0.count, 1) } ?? 0
    }

    /// The bytes of the FITS file. `name` names the table in errors.
    public func data(name: String = "<table>") throws -> Data {
        try validate(name: name)
        return try CFITSIOLock.run {
            let file = try CFITSIOFile.createInMemory(name: name)
            defer { file.close() }
            try append(to: file)
            return try file.closeReturningBytes()
        }
    }

    /// Adds this table as the next HDU of `file` (the caller holds the CFITSIO lock and validated it).
    func append(to file: CFITSIOFile) throws {
        try createTable(in: file)
        try file.write(keywords, reserved: ["TFIELDS", "TTYPEn", "TFORMn", "TUNITn", "TDIMn"])
        for (index, column) in columns.enumerated() {
            try write(column, number: index + 1, in: file)
        }
    }

    /// Writes the file to `path` atomically (a temporary name, then a rename).
    public func write(to path: String) throws {
        try FITSOutput.write(data(name: path), to: path)
    }

    func validate(name: String) throws {
        var seen = Set<String>()
        let rows = rowCount
        for column in columns {
            let invalid = { (why: String) in FITSError(file: name, reason: .invalidInput("column '\(column.name)' \(why)")) }
            if column.name.isEmpty || column.name.utf8.count > 68 { throw invalid("needs a name of 1 to 68 characters") }
            if !seen.insert(column.name.uppercased()).inserted { throw invalid("appears twice") }
            if column.count < 1 { throw invalid("must hold at least one value per row") }
            if column.valueCount != rows * column.count {
                throw invalid("has \(column.valueCount) values; \(rows) rows of \(column.count) need \(rows * column.count)")
            }
        }
    }

    private func createTable(in file: CFITSIOFile) throws {
        let names = CStringArray(columns.map(\.name))
        let formats = CStringArray(columns.map(\.format))
        let units = CStringArray(columns.map(\.unit))
        try file.call("creating the table") {
            ffcrtb(file.pointer, BINARY_TBL, Int64(rowCount), Int32(columns.count),
                   names.pointers, formats.pointers, units.pointers, extname, &$0)
        }
        for (index, column) in columns.enumerated() {
            guard var dimensions = column.dimensions?.map(Int64.init) else { continue }
            try file.call("writing TDIM\(index + 1)") {
                ffptdmll(file.pointer, Int32(index + 1), Int32(dimensions.count), &dimensions, &$0)
            }
        }
    }

    private func write(_ column: FITSColumn, number: Int, in file: CFITSIOFile) throws {
        let count = Int64(column.valueCount)
        guard count > 0 else { return }
        func put<T: BitwiseCopyable>(_ values: [T], _ type: Int32) throws {
            var values = values
            _ = try values.withUnsafeMutableBytes { buffer in
                try file.call("writing column \(column.name)") {
                    ffpcl(file.pointer, type, Int32(number), 1, 1, count, buffer.baseAddress, &$0)
                }
            }
        }
        switch column.values {
        case .int16(let v): try put(v, TSHORT)
        case .int32(let v): try put(v, TINT)
        case .int64(let v): try put(v, TLONGLONG)
        case .float(let v): try put(v, TFLOAT)
        case .double(let v): try put(v, TDOUBLE)
        }
    }
}
