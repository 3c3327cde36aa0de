import Extraction
import FITS
import Foundation
import Engine
import Storage

/// Reads one input, extracts the sources of its image HDUs and encodes its catalog: the bytes
/// its catalog must have, made the same way by the extract operator and by `sextant verify`.
///
/// Errors that belong to the input (not FITS, truncated, SEP cannot measure it) are returned
/// as `.failed`; errors that may pass (a store that does not answer) are thrown.
struct CatalogMaker {
    struct Made {
        var bytes: Data
        var fields: [CatalogField]
        var fingerprint: InputFingerprint
        /// The file's primary header, for keywords a mosaic keeps there (FILTER, EXPTIME).
        var primaryHeader: FITSHeader?

        var rows: Int { fields.reduce(0) { $0 + $1.catalog.count } }
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
              hashOnly: Bool = false, checkCancellation: () throws -> Void = {}) throws -> Outcome {
        let fields: [CatalogField]
        let fingerprint: InputFingerprint
        let primary: FITSHeader?
        let configuredZeroPoint = try Configuration(settings).value(of: FrameKeys.magnitudeZeroPoint)
        do {
            let opened = try ImageLoader.open(input, stores: stores, settings: settings)
            fingerprint = try opened.fingerprint(checksum: checksum || hashOnly)
            let recorded = checksum ? fingerprint.sha256 : nil
            fields = try hdus(of: opened).map { hdu in
                try checkCancellation()
                return try field(of: try opened.image(hdu), input: input, inputSHA256: recorded,
                                 configuredZeroPoint: configuredZeroPoint)
            }
            primary = fields.contains { $0.provenance.hdu != 0 } ? try? opened.leadingHeaders().first : nil
        } catch let error as FITSError {
            return .failed(error)
        } catch let error as StorageError where error.kind == .notFound {
            return .failed(InputError.notFound(input.uri))
        } catch let error as InputError {
            return .failed(error)
        } catch let error as ExtractionError {
            return .failed(error)
        }
        let bytes = try CatalogEncoder.encode(fields, format: parameters.format)
        return .made(Made(bytes: bytes, fields: fields, fingerprint: fingerprint, primaryHeader: primary))
    }

    /// `--hdu` picks one; otherwise every image HDU (SExtractor's behaviour), and a file with
    /// one image (or none, which then fails as before) reads it as `.automatic` always did.
    private func hdus(of opened: ImageLoader.OpenedInput) throws -> [HDUSelection] {
        if !parameters.hdu.text.isEmpty { return [parameters.hdu.selection] }
        let indices = try opened.imageHDUs()
        return indices.count > 1 ? indices.map(HDUSelection.index) : [.automatic]
    }

    private func field(of image: FITSImage, input: InputFile, inputSHA256: String?,
                       configuredZeroPoint: Double?) throws -> CatalogField {
        let sky = try SkyImage(width: image.width, height: image.height, pixels: image.pixels,
                               mask: image.mask.map(SkyImage.Mask.booleans), label: input.uri)
        var catalog = try extractor.extract(sky)
        // sextant.extract.magZeroPoint stands in when neither a flag nor a .sex file set one.
        if catalog.magnitudeZeroPoint == 0, let configuredZeroPoint { catalog.magnitudeZeroPoint = configuredZeroPoint }
        if let keyword = parameters.extraction.magnitudeZeroPointKeyword, let zeroPoint = image.header.double(keyword) {
            catalog.magnitudeZeroPoint = zeroPoint
        }
        let skyNote = parameters.extraction.columns.wantsSky
            ? SkyColumns.attach(to: &catalog, header: image.header, input: input.uri) : ""
        return CatalogField(catalog: catalog,
                            provenance: .init(input: input.relativePath, hdu: image.hdu, extname: image.extname,
                                              parameters: parameters.extraction, inputSHA256: inputSHA256,
                                              parametersSHA256: parametersSHA256),
                            imageHeader: image.header, sky: skyNote)
    }
}
