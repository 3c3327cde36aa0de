import CSEP

/// SEP's background model of one image: the global level and rms, and on request the
/// full-resolution background and rms maps (bicubic-spline interpolated, as SExtractor's
/// BACKGROUND and BACKGROUND_RMS check images).
public struct BackgroundEstimate: Sendable {
    public let level: Float
    public let rms: Float
    public let width: Int
    public let height: Int
    /// Row-major, `width` x `height`; nil unless asked for.
    public let map: [Float]?
    public let rmsMap: [Float]?
}

/// Owns a `sep_bkg` and frees it.
final class SEPBackground {
    let pointer: UnsafeMutablePointer<sep_bkg>
    let width: Int
    let height: Int
    let label: String

    init(image: SkyImage, parameters: ExtractionParameters.Background,
         library: SEPLibrary) throws {
        var result: UnsafeMutablePointer<sep_bkg>?
        let status = library.call {
            withSEPImage(data: image.pixels, width: image.width, height: image.height,
                         noise: .none, mask: image.mask, gain: nil) { sepImage in
                sep_background(&sepImage,
                               Int32(clamping: parameters.boxWidth), Int32(clamping: parameters.boxHeight),
                               Int32(clamping: parameters.filterWidth), Int32(clamping: parameters.filterHeight),
                               parameters.filterThreshold, &result)
            }
        }
        try check(status, "\(image.label): sep_background")
        guard let result else {
            throw ExtractionError.invalidImage(image.label, "gave no background model")
        }
        pointer = result
        width = image.width
        height = image.height
        self.label = image.label
    }

    deinit { sep_bkg_free(pointer) }

    var level: Float { sep_bkg_global(pointer) }
    var rms: Float { sep_bkg_globalrms(pointer) }

    /// The interpolated background at one pixel (SExtractor's back(field, x, y)), clamped to the image.
    func value(x: Int, y: Int) -> Float {
        sep_bkg_pix(pointer, Int32(min(max(x, 0), width - 1)), Int32(min(max(y, 0), height - 1)))
    }

    func backgroundMap(library: SEPLibrary) throws -> [Float] {
        try fill(library: library, "sep_bkg_array") { sep_bkg_array(pointer, $0, Int32(SEP_TFLOAT)) }
    }

    func rmsMap(library: SEPLibrary) throws -> [Float] {
        try fill(library: library, "sep_bkg_rmsarray") { sep_bkg_rmsarray(pointer, $0, Int32(SEP_TFLOAT)) }
    }

    /// `pixels - background`, computed in float32 by SEP (as numpy's `data - bkg` does).
    func subtracted(from pixels: [Float], library: SEPLibrary) throws -> [Float] {
        var result = pixels
        let status = library.call {
            result.withUnsafeMutableBytes { sep_bkg_subarray(pointer, $0.baseAddress, Int32(SEP_TFLOAT)) }
        }
        try check(status, "\(label): sep_bkg_subarray")
        return result
    }

    private func fill(library: SEPLibrary, _ name: String,
                      _ call: (UnsafeMutableRawPointer?) -> Int32) throws -> [Float] {
        var result = [Float](repeating: 0, count: width * height)
        let status = library.call { result.withUnsafeMutableBytes { call($0.baseAddress) } }
        try check(status, "\(label): \(name)")
        return result
    }
}
