import Engine
import Foundation

/// Bounds how many large images one process decodes and extracts at once, so an executor
/// with many cores does not run out of memory on a batch of huge frames: an 8k x 8k float32
/// frame takes about 560 MB through read, background and extraction, and eight of them at once
/// would take 4.5 GB. Smaller images never wait.
///
/// `sextant.executor.largeImageSlots` (default 2) large images at a time per process;
/// `sextant.executor.largeImageBytes` (default 64m) is what counts as large: the image's
/// pixels as float32 (width x height x 4), read from the FITS header before the image is.
/// Both are process-wide (and shared by a local run's worker processes, `LargeImageLocks`), like SEP's pixel stack: the process's own conf sets them (a job's
/// tasks never carry them to another process).
/// @unchecked: `condition` guards `slots`, `threshold`, `inUse` and `peak`.
final class LargeImageGate: @unchecked Sendable {
    static let shared = LargeImageGate()
    static let defaultSlots = ExtractionKeys.largeImageSlots.defaultValue
    static let defaultThreshold = Int(ExtractionKeys.largeImageBytes.defaultValue)

    private let condition = NSCondition()
    private var slots = LargeImageGate.defaultSlots
    private var threshold = LargeImageGate.defaultThreshold
    private var inUse = 0
    private var peak = 0
    /// The most large images that were ever in flight at once (for tests and figures).
    var peakInUse: Int { condition.withLock { peak } }

    /// The slots and threshold in force (for tests).
    var limits: (slots: Int, threshold: Int) { condition.withLock { (slots, threshold) } }

    /// Takes the keys from `settings` when present: the process's own conf, never a task's.
    func apply(_ settings: [String: String]) throws {
        let conf = Configuration(settings)
        if conf.contains(ExtractionKeys.largeImageSlots) {
            let value = try conf.value(of: ExtractionKeys.largeImageSlots)
            condition.lock(); slots = value; condition.broadcast(); condition.unlock()
        }
        if conf.contains(ExtractionKeys.largeImageBytes) {
            let value = try conf.value(of: ExtractionKeys.largeImageBytes)
            condition.lock(); threshold = Int(value); condition.unlock()
        }
    }

    /// Runs `body` once a slot is free when the image is large, at once otherwise.
    func run<T>(pixelBytes: Int, _ body: () throws -> T) rethrows -> T {
        condition.lock()
        let large = pixelBytes >= threshold
        let processSlots = slots
        if large {
            while inUse >= slots { condition.wait() }
            inUse += 1
            peak = max(peak, inUse)
        }
        condition.unlock()
        defer {
            if large {
                condition.lock(); inUse -= 1; condition.signal(); condition.unlock()
            }
        }
        // Across the worker processes of a local run too, when it shares its slots.
        return large ? try LargeImageLocks.withSlot(slots: processSlots, body) : try body()
    }
}
