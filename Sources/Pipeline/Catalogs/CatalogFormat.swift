import Foundation

/// How a catalog is written: a FITS binary table (default; astropy and TOPCAT read it)
/// or CSV (spreadsheets, pandas).
public enum CatalogFormat: String, Codable, CaseIterable, Sendable {
    case fits, csv

    /// The file-name ending the catalog of `image.fits` gets: `image.cat.fits` or `image.cat.csv`.
    public var suffix: String { self == .fits ? ".cat.fits" : ".cat.csv" }

    /// The catalog name for an input's relative path: its image suffix replaced by ours.
    public func catalogName(for relativePath: String) -> String {
        InputFile.stem(of: relativePath) + suffix
    }
}
