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

    /// The catalog of image HDU `hdu` of a file split into one task per HDU: `f.fits` -> `f.hdu3.cat.fits`
    /// (named as check images of a multi-HDU input are).
    public func catalogName(for relativePath: String, hdu: Int) -> String {
        InputFile.stem(of: relativePath) + ".hdu\(hdu)" + suffix
    }

    /// Whether a file's HDUs may go to tasks of their own, one catalog each: not LDAC, whose
    /// one file holds every HDU of an exposure as SCAMP expects.
    public var allowsHDUSplit: Bool { self != .ldac }
}
