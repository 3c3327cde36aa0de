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
        /// Check images (CHECKIMAGE_TYPE): the name each is committed under, beside the catalog, and its bytes.
        var checkImages: [(name: String, bytes: Data)] = []
        /// The file's primary header, for keywords a mosaic keeps there (FILTER, EXPTIME).
        var primaryHeader: FITSHeader?

        var rows: Int { fields.reduce(0) { $0 + $1.catalog.count } }
    }

    enum Outcome {
        case made(Made)
        case failed(Error)
        /// More image HDUs than `splitAbove`: nothing extracted; these HDUs go to tasks of their own.
        case split(hdus: [Int], sha256: String?)
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
    /// `checkImages` also makes the check images the parameters ask for; `isAllowed` says
    /// whether a weight or flag image may be read (sextant.executor.allowedRoots); `open` opens the
    /// input (a task's `InputPrefetch`), its errors classified like those of `ImageLoader.open`.
    /// A file with more image HDUs than `splitAbove` (0: never) is `.split` (not with `--hdu`, nor
    /// for LDAC); an input with `hdu` set is one HDU of such a file, made alone.
    func make(_ input: InputFile, stores: StoreCache, settings: [String: String], checksum: Bool,
              hashOnly: Bool = false, checkImages: Bool = false, isAllowed: @escaping (String) -> Bool = { _ in true },
              open: (() throws -> ImageLoader.OpenedInput)? = nil, splitAbove: Int = 0,
              checkCancellation: () throws -> Void = {}) throws -> Outcome {
        var fields: [CatalogField] = []
        var checks: [(name: String, bytes: Data)] = []
        var fingerprint: InputFingerprint
        var primary: FITSHeader?
        let configuredZeroPoint = try Configuration(settings).value(of: FrameKeys.magnitudeZeroPoint)
        do {
            let opened = try open?() ?? ImageLoader.open(input, stores: stores, settings: settings)
            // One HDU of a split file takes the file's digest from the task that split it: hashing the
            // whole file again in each of 60 HDU tasks would cost more than the split gains.
            let known = hashOnly ? nil : input.sha256
            fingerprint = try opened.fingerprint(checksum: (checksum || hashOnly) && known == nil)
            if checksum, let known { fingerprint.sha256 = known }
            if let split = try splitHDUs(of: opened, input: input, above: splitAbove) {
                return .split(hdus: split, sha256: fingerprint.sha256)
            }
            let recorded = checksum ? fingerprint.sha256 : nil
            let selections = try hdus(of: opened, input: input)
            // One HDU of a split file is still one of several: its maps and check images say which.
            let paired = selections.count > 1 || input.hdu != nil
            let maps = CompanionMaps(parameters: parameters.extraction, input: input, stores: stores,
                                     settings: settings, isAllowed: isAllowed)
            for hdu in selections {
                try checkCancellation()
                let image = try opened.image(hdu)
                let (field, images) = try self.field(of: image, input: input, inputSHA256: recorded, maps: maps,
                                                     paired: paired, checkImages: checkImages,
                                                     configuredZeroPoint: configuredZeroPoint)
                fields.append(field)
                checks += try images.map { check in
                    (CheckImageNaming.name(check.type, requests: parameters.extraction.checkImages,
                                           relativePath: input.relativePath, hdu: paired ? image.hdu : nil),
                     try CheckImageNaming.bytes(check, label: input.uri))
                }
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
        return .made(Made(bytes: bytes, fields: fields, fingerprint: fingerprint, checkImages: checks,
                          primaryHeader: primary))
    }

    /// `--hdu` picks one; otherwise every image HDU (SExtractor's behaviour), and a file with
    /// one image (or none, which then fails as before) reads it as `.automatic` always did.
    private func hdus(of opened: ImageLoader.OpenedInput, input: InputFile) throws -> [HDUSelection] {
        if let part = input.hdu { return [.index(part)] }
        if !parameters.hdu.text.isEmpty { return [parameters.hdu.selection] }
        let indices = try opened.imageHDUs()
        return indices.count > 1 ? indices.map(HDUSelection.index) : [.automatic]
    }

    /// The image HDUs to hand back when `opened` has more than `above` of them; nil to extract here.
    private func splitHDUs(of opened: ImageLoader.OpenedInput, input: InputFile, above: Int) throws -> [Int]? {
        guard above > 0, input.hdu == nil, parameters.hdu.text.isEmpty, parameters.format.allowsHDUSplit else { return nil }
        let indices = try opened.imageHDUs()
        return indices.count > above ? indices : nil
    }

    private func field(of image: FITSImage, input: InputFile, inputSHA256: String?, maps: CompanionMaps,
                       paired: Bool, checkImages: Bool, configuredZeroPoint: Double?) throws -> (CatalogField, [CheckImage]) {
        let plain = try SkyImage(width: image.width, height: image.height, pixels: image.pixels,
                                 mask: image.mask.map(SkyImage.Mask.booleans), label: input.uri)
        let sky = try maps.attach(to: plain, of: image, paired: paired)
        let wanted = checkImages ? parameters.extraction.checkImages.map(\.type) : []
        var (catalog, checks) = try calibrated(extractor, image.header).extract(sky, checkImages: wanted)
        // sextant.extract.magZeroPoint stands in when neither a flag nor a .sex file set one.
        if catalog.magnitudeZeroPoint == 0, let configuredZeroPoint { catalog.magnitudeZeroPoint = configuredZeroPoint }
        if let keyword = parameters.extraction.magnitudeZeroPointKeyword, let zeroPoint = image.header.double(keyword) {
            catalog.magnitudeZeroPoint = zeroPoint
        }
        let skyNote = parameters.extraction.columns.wantsSky
            ? SkyColumns.attach(to: &catalog, header: image.header, input: input.uri) : ""
        return (CatalogField(catalog: catalog,
                            provenance: .init(input: input.relativePath, hdu: image.hdu, extname: image.extname,
                                              parameters: parameters.extraction, inputSHA256: inputSHA256,
                                              parametersSHA256: parametersSHA256),
                            imageHeader: image.header, sky: skyNote), checks)
    }

    /// GAIN_KEY and SATUR_KEY: the image's own values where its header has them.
    private func calibrated(_ extractor: Extractor, _ header: FITSHeader) -> Extractor {
        let p = parameters.extraction
        let gain = p.gainKeyword.isEmpty ? p.gain : header.double(p.gainKeyword) ?? p.gain
        let saturation = p.saturationKeyword.isEmpty ? p.saturationLevel
            : header.double(p.saturationKeyword) ?? p.saturationLevel
        return gain == p.gain && saturation == p.saturationLevel ? extractor
            : extractor.calibrated(gain: gain, saturationLevel: saturation)
    }
}
