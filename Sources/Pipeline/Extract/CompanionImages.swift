import Extraction
import FITS
import Foundation
import Storage

/// WEIGHT_IMAGE and FLAG_IMAGE rules: which image goes with an input, found beside it in the
/// same place (directory or S3 prefix), so maps travel with their images to any store.
///
/// - `{stem}` is the input's file name without its image suffix (`f.fits.gz` -> `f`), `{name}`
///   its file name; `{stem}.weight.fits` is `f.weight.fits` beside `f.fits`.
/// - A rule without `/` (or starting `./`) is beside the input; an absolute path or a URI is used as is
///   (one map for every input, as a .sex file usually means it).
/// - A trailing `[N]` or `[EXTNAME]` picks that HDU; a rule that is only `[N]`/`[EXTNAME]` is
///   another HDU of the input itself. Without one, a multi-extension input's HDU k reads HDU k
///   of the map (SExtractor's pairing of extensions).
enum CompanionImage {
    struct Reference: Equatable {
        var input: InputFile
        var hdu: HDUSelection?
    }

    static func resolve(_ rule: String, for input: InputFile) -> Reference {
        var text = rule.trimmingCharacters(in: .whitespaces)
        var hdu: HDUSelection?
        if text.hasSuffix("]"), let open = text.lastIndex(of: "[") {
            let inside = String(text[text.index(after: open)..<text.index(before: text.endIndex)])
            hdu = Int(inside).map(HDUSelection.index) ?? .extname(inside)
            text = String(text[..<open])
        }
        guard !text.isEmpty else { return Reference(input: input, hdu: hdu) }
        let uri = input.uri
        let slash = uri.lastIndex(of: "/")
        let name = slash.map { String(uri[uri.index(after: $0)...]) } ?? uri
        let directory = slash.map { String(uri[...$0]) } ?? ""
        let expanded = text.replacingOccurrences(of: "{stem}", with: InputFile.stem(of: name))
            .replacingOccurrences(of: "{name}", with: name)
        let located: String
        if expanded.hasPrefix("/") || expanded.contains("://") {
            located = expanded
        } else {
            located = directory + (expanded.hasPrefix("./") ? String(expanded.dropFirst(2)) : expanded)
        }
        return Reference(input: InputFile(uri: located, relativePath: InputFile.stem(of: name)), hdu: hdu)
    }
}

/// The weight and flag maps of one input, each opened once for all its HDUs.
final class CompanionMaps {
    private let parameters: ExtractionParameters
    private let input: InputFile
    private let stores: StoreCache
    private let settings: [String: String]
    private let isAllowed: (String) -> Bool
    private var opened: [String: ImageLoader.OpenedInput] = [:]

    init(parameters: ExtractionParameters, input: InputFile, stores: StoreCache, settings: [String: String],
         isAllowed: @escaping (String) -> Bool) {
        self.parameters = parameters
        self.input = input
        self.stores = stores
        self.settings = settings
        self.isAllowed = isAllowed
    }

    /// `image` with its weight and flag maps; `hdu` is the image's HDU, `paired` whether the input has several.
    func attach(to image: SkyImage, of fitsImage: FITSImage, paired: Bool) throws -> SkyImage {
        var result = image
        if let weight = parameters.weight, weight.kind.needsImage, let rule = weight.image {
            let map = try read(rule, purpose: "weight image", for: fitsImage, paired: paired)
            result = try result.withWeightMap(map.pixels, source: map.label)
        }
        if let flags = parameters.flagImage {
            let map = try read(flags.image, purpose: "flag image", for: fitsImage, paired: paired)
            result = try result.withFlagMap(map.pixels.map { $0.isFinite ? Int32(clamping: Int64($0)) : 0 }, source: map.label)
        }
        return result
    }

    private func read(_ rule: String, purpose: String, for image: FITSImage,
                      paired: Bool) throws -> (pixels: [Float], label: String) {
        let reference = CompanionImage.resolve(rule, for: input)
        let uri = reference.input.uri
        // The manifest line starts with the input; these name the map and what is wrong with it.
        guard isAllowed(uri) else {
            throw InputError.unreadable(uri, reason: "the \(purpose) is outside sextant.executor.allowedRoots")
        }
        let map: FITSImage
        do {
            let source = try opened[uri] ?? ImageLoader.open(reference.input, stores: stores, settings: settings)
            opened[uri] = source
            map = try source.image(reference.hdu ?? (paired ? .index(image.hdu) : .automatic))
        } catch let error as StorageError where error.kind == .notFound {
            throw InputError.unreadable(uri, reason: "the \(purpose) is missing")
        }
        guard map.width == image.width, map.height == image.height else {
            throw InputError.unreadable(uri, reason: "the \(purpose) is \(map.width)x\(map.height), the image \(image.width)x\(image.height)")
        }
        return (map.pixels, uri)
    }
}
