import Extraction
import Foundation

/// Writes a catalog as CSV: one header line of SExtractor column names (a vector column
/// becomes FLUX_APER_1, FLUX_APER_2, ...), then one line per source. Reals are written
/// in Swift's shortest round-trip form, so reading them back gives the same Double.
enum CSVCatalogEncoder {
    static func encode(_ catalog: Catalog) -> Data {
        let columns = catalog.columns
        var header: [String] = []
        for column in columns {
            if case .realVector(let length) = column.description.kind {
                header += (1...max(length, 1)).map { "\(column.description.name)_\($0)" }
            } else {
                header.append(column.description.name)
            }
        }
        var text = header.joined(separator: ",") + "\n"
        for row in 0..<catalog.count {
            var fields: [String] = []
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
        return Data(text.utf8)
    }

    private static func format(_ value: Double) -> String {
        value.isNaN ? "nan" : value.isInfinite ? (value < 0 ? "-inf" : "inf") : "\(value)"
    }
}
