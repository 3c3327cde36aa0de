import Foundation

/// How a catalog is written: a FITS binary table (default; astropy and TOPCAT read it)
/// or CSV (spreadsheets, pandas).
public enum CatalogFormat: String, Codable, CaseIterable, Sendable {
    case fits, csv

    /// The file-name ending the catalog of `image.fits` gets: `image.cat.fits` or `image.cat.csv`.
    public var suffix: String { self == .fits ? ".cat.fits" : ".cat.csv" }

    /// The catalog name for an input's relative path: its image suffix replaced by ours.
    public func catalogName(for relativePath: String) -> String {
        let lower = relativePath.lowercased()
        for suffix in Self.longestSuffixFirst where lower.hasSuffix(suffix) {
            return String(relativePath.dropLast(suffix.count)) + self.suffix
        }
        return relativePath + self.suffix
    }

    /// Sorted once: this runs once per input, a million times in a survey.
    private static let longestSuffixFirst = InputListing.imageSuffixes.sorted { $0.count > $1.count }
}
