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
        InputFile.stem(of: relativePath) + suffix
    }
}
