import Extraction
import FITS
import Foundation

/// Where check images go and what they are: beside the catalog, in the same store, named after
/// the input. `{stem}` in a CHECKIMAGE_NAME is the input's relative path without its image
/// suffix (the catalog's stem); a name without it is put after the stem (`back.fits` ->
/// `f.back.fits`); no name is `f.<type>.fits` (`f.segmentation.fits`, `f.minus-background.fits`).
/// An input with several image HDUs gets one file per HDU, `f.hdu<N>.<...>`.
enum CheckImageNaming {
    static func name(_ type: CheckImageType, requests: [CheckImageRequest], relativePath: String, hdu: Int?) -> String {
        let stem = InputFile.stem(of: relativePath) + (hdu.map { ".hdu\($0)" } ?? "")
        guard let given = requests.first(where: { $0.type == type })?.name, !given.isEmpty else {
            return "\(stem).\(type.fileTag).fits"
        }
        if given.contains("{stem}") { return given.replacingOccurrences(of: "{stem}", with: stem) }
        return "\(stem).\(given)"
    }

    /// The FITS bytes: one image in the primary HDU, float32 or (SEGMENTATION) int32.
    static func bytes(_ image: CheckImage, label: String) throws -> Data {
        let pixels: FITSPixels
        switch image.pixels {
        case .float32(let values): pixels = .float32(values)
        case .int32(let values): pixels = .int32(values)
        }
        return try FITSImageWriter(width: image.width, height: image.height, pixels: pixels,
                                   keywords: [.string("CHECKIMA", image.type.rawValue, comment: "SExtractor check-image type")])
            .data(name: label)
    }

    /// Throws when a CHECKIMAGE_NAME could leave the output (absolute, or a `..` component).
    static func validate(_ requests: [CheckImageRequest]) throws {
        for name in requests.compactMap(\.name) where name.hasPrefix("/") || name.contains("://")
            || name.split(separator: "/").contains("..") {
            throw ExtractionError.invalidParameter("CHECKIMAGE_NAME \(name) must stay inside the output (no leading /, no ..)")
        }
    }
}
