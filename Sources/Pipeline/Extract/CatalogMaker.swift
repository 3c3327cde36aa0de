import Extraction
import FITS
import Foundation
import Storage

/// Reads one input, extracts its sources and encodes its catalog: the bytes its catalog must
/// have, made the same way by the extract operator and by `sextant verify`.
///
/// Errors that belong to the input (not FITS, truncated, SEP cannot measure it) are returned
/// as `.failed`; errors that may pass (a store that does not answer) are thrown.
struct CatalogMaker {
    struct Made {
        var bytes: Data
        var rows: Int
        var fingerprint: InputFingerprint
    }

    enum Outcome {
        case made(Made)
        case failed(Error)
    }

    let parameters: ExtractParameters
    let parametersSHA256: String
    private let extractor: Extractor

    init(parameters: ExtractParameters) throws {
        self.parameters = parameters
        self.parametersSHA256 = try CatalogRecipe(parameters).sha256()
        self.extractor = try Extractor(parameters: parameters.extraction)
    }

    /// `checksum` hashes the input and records it in the catalog's header; `hashOnly` hashes it
    /// without (verifying a job that did not record checksums against a published list).
    func make(_ input: InputFile, stores: StoreCache, settings: [String: String], checksum: Bool,
              hashOnly: Bool = false) throws -> Outcome {
        let image: FITSImage
        let fingerprint: InputFingerprint
        do {
            (image, fingerprint) = try ImageLoader.load(input, hdu: parameters.hdu.selection, stores: stores,
                                                        settings: settings, checksum: checksum || hashOnly)
        } catch let error as FITSError {
            return .failed(error)
        } catch let error as StorageError where error.kind == .notFound {
            return .failed(InputError.notFound(input.uri))
        } catch let error as InputError {
            return .failed(error)
        }
        let catalog: Catalog
        do {
            let sky = try SkyImage(width: image.width, height: image.height, pixels: image.pixels,
                                   mask: image.mask.map(SkyImage.Mask.booleans), label: input.uri)
            catalog = try extractor.extract(sky)
        } catch let error as ExtractionError {
            return .failed(error)
        }
        let provenance = CatalogProvenance(input: input.relativePath, hdu: image.hdu, extname: image.extname,
                                           parameters: parameters.extraction,
                                           inputSHA256: checksum ? fingerprint.sha256 : nil,
                                           parametersSHA256: parametersSHA256)
        let bytes = try CatalogEncoder.encode(catalog, format: parameters.format, provenance: provenance)
        return .made(Made(bytes: bytes, rows: catalog.count, fingerprint: fingerprint))
    }
}
