import Engine
import FITS

/// `sextant.input.maxPixels` (default 2^28, a 16384 x 16384 frame) and
/// `sextant.input.maxInflatedBytes` (default 8 bytes per allowed pixel plus 64 MiB): what one
/// input may make a reader allocate. A file over them fails alone, with its reason.
enum InputLimitSettings {
    static let maxPixelsKey = "sextant.input.maxPixels"
    static let maxInflatedBytesKey = "sextant.input.maxInflatedBytes"

    static func limits(from settings: [String: String]) throws -> InputLimits {
        let conf = Configuration(settings)
        let pixels = try conf.size(maxPixelsKey, default: Int64(InputLimits.defaultMaxPixels))
        guard pixels > 0 else {
            throw ConfigurationError.badValue(key: maxPixelsKey, value: "\(pixels)", expected: "a positive number")
        }
        let inflated = try settings[maxInflatedBytesKey].map { _ in
            try conf.size(maxInflatedBytesKey, default: 0)
        }
        if let inflated, inflated <= 0 {
            throw ConfigurationError.badValue(key: maxInflatedBytesKey, value: "\(inflated)", expected: "a positive size")
        }
        return InputLimits(maxPixels: Int(pixels), maxInflatedBytes: inflated.map { Int($0) })
    }
}
