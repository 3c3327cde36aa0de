import Extraction
import Foundation

/// Applies the `sextant.extraction.*` conf keys to the process's one SEP. A task carries the
/// job's settings; changing SEP's process-wide values waits for running extractions, so
/// it is done only when a value really differs.
enum SEPSettings {
    static func apply(_ settings: [String: String]) throws {
        let library = SEPLibrary.shared
        if let text = settings["sextant.extraction.serialized"] {
            guard let serialized = Bool(text.lowercased()) else {
                throw ExtractionError.invalidParameter("sextant.extraction.serialized must be true or false, not \(text)")
            }
            let mode: SEPLibrary.ConcurrencyMode = serialized ? .serialized : .parallel
            if library.mode != mode { library.mode = mode }
        }
        if let text = settings["sextant.extraction.pixstack"] {
            guard let value = Int(text), value > 0 else {
                throw ExtractionError.invalidParameter("sextant.extraction.pixstack must be a positive number, not \(text)")
            }
            if library.pixelStack != value { library.pixelStack = value }
        }
        if let text = settings["sextant.extraction.subObjectLimit"] {
            guard let value = Int(text), value > 0 else {
                throw ExtractionError.invalidParameter("sextant.extraction.subObjectLimit must be a positive number, not \(text)")
            }
            if library.subObjectLimit != value { library.subObjectLimit = value }
        }
        if let text = settings["sextant.extraction.retryFactor"] {
            guard let value = Int(text), value >= 2 else {
                throw ExtractionError.invalidParameter("sextant.extraction.retryFactor must be 2 or more, not \(text)")
            }
            if library.retryFactor != value { library.retryFactor = value }
        }
    }
}
