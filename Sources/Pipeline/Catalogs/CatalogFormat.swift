import Foundation

/// How a catalog is written: a FITS binary table (default; astropy and TOPCAT read it),
/// FITS_LDAC (what SCAMP and PSFEx read) or CSV (spreadsheets, pandas).
public enum CatalogFormat: String, Codable, CaseIterable, Sendable {
    case fits, csv, ldac

    /// The file-name ending the catalog of `image.fits` gets: `image.cat.fits`, `image.cat.csv`
    /// or `image.ldac.fits`.
    public var suffix: String {
        switch self {
        case .fits: return ".cat.fits"
        case .csv: return ".cat.csv"
        case .ldac: return ".ldac.fits"
        }
    }

    /// The catalog name for an input's relative path: its image suffix replaced by ours.
    public func catalogName(for relativePath: String) -> String {
        let lower = relativePath.lowercased()
        for suffix in InputListing.imageSuffixes.sorted(by: { $0.count > $1.count }) where lower.hasSuffix(suffix) {
            return String(relativePath.dropLast(suffix.count)) + self.suffix
        }
        return relativePath + self.suffix
    }
}
