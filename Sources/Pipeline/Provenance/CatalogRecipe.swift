import Extraction
import Foundation
import Hashing

/// Everything that decides a catalog's bytes except its image and where it goes: the format,
/// the HDU choice and every extraction parameter. Its canonical JSON is recorded in
/// `_provenance.json`; its SHA-256 is also in every FITS catalog's header (PARHASH).
public struct CatalogRecipe: Codable, Equatable, Sendable {
    public var format: CatalogFormat
    public var hdu: String
    public var extraction: ExtractionParameters

    public init(_ parameters: ExtractParameters) {
        format = parameters.format
        hdu = parameters.hdu.text
        extraction = parameters.extraction
    }

    /// The job parameters that write this recipe's catalogs to `output`.
    public func parameters(output: String) -> ExtractParameters {
        ExtractParameters(output: output, format: format, hdu: HDUChoice(hdu), extraction: extraction)
    }

    public func canonicalJSON() throws -> Data { try CanonicalJSON.encode(self) }

    public func sha256() throws -> String { Digest.sha256(try canonicalJSON()).hexString }
}
