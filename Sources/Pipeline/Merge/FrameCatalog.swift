import FITS
import Foundation
import SkyMerge

/// One frame catalog the sky merge reads: its position in the job's sorted list of catalogs
/// (the FRAME column of the merged catalog) and its key under the catalogs' location.
public struct FrameCatalogRef: Codable, Hashable, Sendable {
    public var index: Int
    public var key: String

    public init(index: Int, key: String) {
        self.index = index
        self.key = key
    }
}

/// Which columns hold a detection's sky position.
public struct SkyColumnNames: Codable, Hashable, Sendable {
    public var ra: String
    public var dec: String

    public init(ra: String = "ALPHA_J2000", dec: String = "DELTA_J2000") {
        self.ra = ra
        self.dec = dec
    }
}

/// A frame catalog's detections, as the merge sees them.
///
/// Each binary table of the file is one frame (a multi-extension image's catalog holds one per
/// CCD): `Detection.frame` is "INDEX/HDU", so the merged row names its catalog (FRAME, in
/// `_frames.csv`) and table (HDU). The primary rule's distance is in pixels from the centre
/// of the image the table was measured on (`IMWIDTH`/`IMHEIGHT` header cards, X_IMAGE/Y_IMAGE
/// columns); a table without them ranks by frame and row alone (distance 0). Rows without a
/// sky position (NaN: their image had no WCS) are not detections of the sky.
enum FrameCatalogReader {
    static func detections(in data: Data, of frame: FrameCatalogRef, columns: SkyColumnNames) throws -> [Detection] {
        let tables = try FITSTableReader.tables(data: data, name: frame.key,
                                                columns: [columns.ra, columns.dec, "X_IMAGE", "Y_IMAGE"],
                                                keywords: ["IMWIDTH", "IMHEIGHT"])
        let sky = tables.filter { $0.columns[columns.ra] != nil && $0.columns[columns.dec] != nil }
        guard !sky.isEmpty else { throw FrameCatalogError.noSkyColumns(frame.key, columns) }
        var detections: [Detection] = []
        for table in sky {
            let ra = table.columns[columns.ra]!, dec = table.columns[columns.dec]!
            let x = table.columns["X_IMAGE"], y = table.columns["Y_IMAGE"]
            let centre = table.keywords["IMWIDTH"].flatMap { width in
                table.keywords["IMHEIGHT"].map { ((width + 1) / 2, ($0 + 1) / 2) }
            }
            let name = "\(frame.index)/\(table.hdu)"
            for row in 0..<table.rowCount where ra[row].isFinite && dec[row].isFinite {
                var distance = 0.0
                if let centre, let x, let y, x[row].isFinite, y[row].isFinite {
                    distance = ((x[row] - centre.0) * (x[row] - centre.0) + (y[row] - centre.1) * (y[row] - centre.1))
                        .squareRoot()
                }
                detections.append(Detection(ra: ra[row], dec: dec[row], frame: name, distanceToFrameCenter: distance,
                                            row: row))
            }
        }
        return detections
    }

    /// The catalog and table a detection's `frame` names.
    static func frameAndHDU(_ frame: String) -> (frame: Int, hdu: Int) {
        let parts = frame.split(separator: "/")
        return (Int(parts.first ?? "") ?? -1, Int(parts.last ?? "") ?? -1)
    }
}

enum FrameCatalogError: Error, CustomStringConvertible {
    case noSkyColumns(String, SkyColumnNames)

    var description: String {
        switch self {
        case let .noSkyColumns(key, columns):
            return "\(key): no table with \(columns.ra) and \(columns.dec) columns (its image had no WCS, or the "
                + "sky columns have other names: --ra-column, --dec-column)"
        }
    }
}
