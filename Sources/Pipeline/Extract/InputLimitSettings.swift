import Engine
import FITS

/// `sextant.input.maxPixels` and `sextant.input.maxInflatedBytes` (StorageKeys): what one
/// input may make a reader allocate. A file over them fails alone, with its reason.
enum InputLimitSettings {
    static func limits(from settings: [String: String]) throws -> InputLimits {
        let conf = Configuration(settings)
        let pixels = try conf.value(of: StorageKeys.maxPixels)
        let inflated = try conf.value(of: StorageKeys.maxInflatedBytes)
        return InputLimits(maxPixels: Int(clamping: pixels), maxInflatedBytes: inflated.map { Int(clamping: $0) })
    }
}
