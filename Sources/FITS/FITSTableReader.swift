import CFITSIO
import Foundation

/// Numeric columns of the binary tables in a FITS file, read as Double: what the sky merge
/// needs of a catalog (positions, pixel coordinates), not a general table reader.
public struct FITSTable: Sendable {
    /// The HDU's index in the file (0 = primary).
    public var hdu: Int
    public var rowCount: Int
    /// The columns asked for that the table has, by the name asked for.
    public var columns: [String: [Double]]
    /// The numeric header keywords asked for that the table's header has.
    public var keywords: [String: Double]
}

public enum FITSTableReader {
    /// Every binary table HDU of the file in `data` with the first scalar column of `names`
    /// it has (case-insensitive, CFITSIO's match), in HDU order. LDAC's image-header tables
    /// (`LDAC_IMHEAD`) have none of a catalog's columns and are skipped.
    public static func tables(data: Data, name: String, columns names: [String], keywords: [String] = [],
                              limits: InputLimits = .standard) throws -> [FITSTable] {
        try data.withUnsafeBytes { bytes in
            try CFITSIOLock.run {
                let file = try CFITSIOFile.open(bytes: bytes, name: name, limits: limits)
                defer { file.close() }
                return try tables(in: file, columns: names, keywords: keywords)
            }
        }
    }

    private static func tables(in file: CFITSIOFile, columns names: [String], keywords: [String]) throws -> [FITSTable] {
        var tables: [FITSTable] = []
        var index = 0
        while true {
            var status: Int32 = 0
            ffmahd(file.pointer, Int32(clamping: index + 1), nil, &status)
            if status == CFITSIOStatus.endOfFile { break }
            if status > 0 {
                throw FITSError(file: file.name, reason: .cfitsio(action: "moving to HDU \(index)", status: status,
                                                                  message: CFITSIOStatus.text(status)))
            }
            defer { index += 1 }
            var type: Int32 = 0
            try file.call("reading the HDU type") { ffghdt(file.pointer, &type, &$0) }
            guard type == BINARY_TBL else { continue }
            var rows: Int64 = 0
            try file.call("reading the row count of HDU \(index)") { ffgnrwll(file.pointer, &rows, &$0) }
            var columns: [String: [Double]] = [:]
            for name in names {
                var number: Int32 = 0
                var lookup: Int32 = 0
                var template = Array(name.utf8CString)
                ffgcno(file.pointer, CASEINSEN, &template, &number, &lookup)
                guard lookup == 0 else { continue }
                var typecode: Int32 = 0, repeatCount: Int64 = 0, width: Int64 = 0
                try file.call("reading the type of column \(name)") {
                    ffgtclll(file.pointer, number, &typecode, &repeatCount, &width, &$0)
                }
                guard repeatCount == 1, typecode != TSTRING else { continue }
                var values = [Double](repeating: 0, count: Int(rows))
                if rows > 0 {
                    var anyNull: Int32 = 0
                    var null = Double.nan
                    _ = try values.withUnsafeMutableBufferPointer { buffer in
                        try file.call("reading column \(name) of HDU \(index)") {
                            ffgcv(file.pointer, TDOUBLE, number, 1, 1, rows, &null, buffer.baseAddress, &anyNull, &$0)
                        }
                    }
                }
                columns[name] = values
            }
            guard !columns.isEmpty else { continue }
            var values: [String: Double] = [:]
            for keyword in keywords {
                var value = 0.0
                var keyStatus: Int32 = 0
                ffgky(file.pointer, TDOUBLE, keyword, &value, nil, &keyStatus)
                if keyStatus == 0 { values[keyword] = value }
            }
            tables.append(FITSTable(hdu: index, rowCount: Int(rows), columns: columns, keywords: values))
        }
        return tables
    }
}
