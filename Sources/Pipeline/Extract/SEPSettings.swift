import Engine
import Extraction
import Foundation

/// Applies the `sextant.extraction.*` keys (declared in `ExtractionKeys`, process-wide) to the
/// process's one SEP. Changing SEP's process-wide values waits for running extractions, so it
/// is done only when a value really differs.
enum SEPSettings {
    static func apply(_ settings: [String: String]) throws {
        let library = SEPLibrary.shared
        let c = Configuration(settings)
        if c.contains(ExtractionKeys.serialized) {
            let mode: SEPLibrary.ConcurrencyMode = try c.value(of: ExtractionKeys.serialized) ? .serialized : .parallel
            if library.mode != mode { library.mode = mode }
        }
        if c.contains(ExtractionKeys.pixelStack) {
            let value = try c.value(of: ExtractionKeys.pixelStack)
            if library.pixelStack != value { library.pixelStack = value }
        }
        if c.contains(ExtractionKeys.subObjectLimit) {
            let value = try c.value(of: ExtractionKeys.subObjectLimit)
            if library.subObjectLimit != value { library.subObjectLimit = value }
        }
        if c.contains(ExtractionKeys.retryFactor) {
            let value = try c.value(of: ExtractionKeys.retryFactor)
            if library.retryFactor != value { library.retryFactor = value }
        }
    }
}
