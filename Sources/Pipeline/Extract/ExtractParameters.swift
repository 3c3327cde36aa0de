import Extraction
import FITS
import Foundation

/// Which HDU to read, as a user writes it: empty for automatic, a number (0 = primary),
/// or an EXTNAME. Kept as text so it travels in task parameters as the user gave it.
public struct HDUChoice: Codable, Hashable, Sendable, CustomStringConvertible {
    public var text: String

    public init(_ text: String = "") { self.text = text.trimmingCharacters(in: .whitespaces) }

    public var selection: HDUSelection {
        if text.isEmpty { return .automatic }
        if let index = Int(text) { return .index(index) }
        return .extname(text)
    }

    public var description: String { text.isEmpty ? "auto" : text }
}

/// What every extract task of a job needs to know: the same for all its partitions.
public struct ExtractParameters: Codable, Equatable, Sendable {
    /// Where catalogs go: a directory or an s3:// prefix.
    public var output: String
    public var format: CatalogFormat
    public var hdu: HDUChoice
    public var extraction: ExtractionParameters

    public init(output: String, format: CatalogFormat = .fits, hdu: HDUChoice = HDUChoice(),
                extraction: ExtractionParameters = ExtractionParameters()) {
        self.output = output
        self.format = format
        self.hdu = hdu
        self.extraction = extraction
    }
}

public enum SextantVersion {
    public static let string = "0.1.0"
}
