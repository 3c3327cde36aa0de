import Extraction
import Foundation

/// Writes a catalog as CSV: one header line of SExtractor column names (a vector column
/// becomes FLUX_APER_1, FLUX_APER_2, ...), then one line per source. Reals are written
/// in Swift's shortest round-trip form, so reading them back gives the same Double.
enum CSVCatalogEncoder {
    /// `extensionColumn` starts every line with the image HDU (EXT_NUMBER, 0 = primary),
    /// for the catalogs of a multi-extension image in one file.
    static func encode(_ catalogs: [(catalog: Catalog, hdu: Int)], extensionColumn: Bool) -> Data {
        var text = ""
        for (index, entry) in catalogs.enumerated() {
            text += encode(entry.catalog, extensionNumber: extensionColumn ? entry.hdu : nil, header: index == 0)
        }
        return Data(text.utf8)
    }

    static func encode(_ catalog: Catalog) -> Data {
        Data(encode(catalog, extensionNumber: nil, header: true).utf8)
    }

    private static func encode(_ catalog: Catalog, extensionNumber: Int?, header writeHeader: Bool) -> String {
        let columns = catalog.columns
        var header: [String] = extensionNumber == nil ? [] : ["EXT_NUMBER"]
        for column in columns {
            if case .realVector(let length) = column.description.kind {
                header += (1...max(length, 1)).map { "\(column.description.name)_\($0)" }
            } else {
                header.append(column.description.name)
            }
        }
        var text = writeHeader ? header.joined(separator: ",") + "\n" : ""
        for row in 0..<catalog.count {
            var fields: [String] = extensionNumber.map { [String($0)] } ?? []
            fields.reserveCapacity(header.count)
            for column in columns {
                switch column.values {
                case .integers(let values): fields.append(String(values[row]))
                case .reals(let values): fields.append(format(values[row]))
                case .realVectors(let values, let length):
                    fields += values[(row * length)..<((row + 1) * length)].map(format)
                }
            }
            text += fields.joined(separator: ",") + "\n"
        }
        return text
    }

    private static func format(_ value: Double) -> String {
        value.isNaN ? "nan" : value.isInfinite ? (value < 0 ? "-inf" : "inf") : "\(value)"
    }
}
