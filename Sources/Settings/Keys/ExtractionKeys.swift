import Foundation

/// SEP's process-wide settings and the large-image gate (read by Pipeline): an executor's own,
/// never a job's, since one process runs many jobs' tasks on one SEP.
public enum ExtractionKeys {
    public static let serialized = Declare.bool(
        "sextant.extraction.serialized", .extraction, .process, default: false,
        doc: "run every SEP call under one lock (for a libsep that is not reentrant); catalogs are identical either way")
    public static let pixelStack = Declare.int(
        "sextant.extraction.pixstack", .extraction, .process, default: 300_000, shown: "`300000`",
        doc: "SEP's extraction pixel stack (process-wide)")
    public static let subObjectLimit = Declare.int(
        "sextant.extraction.subObjectLimit", .extraction, .process, default: 1024,
        doc: "SEP's deblending sub-object limit (process-wide)")
    public static let retryFactor = Declare.int(
        "sextant.extraction.retryFactor", .extraction, .process, default: 4, in: 2...Int.max,
        doc: "an image that overflows the pixel stack or sub-object limit is retried once with the limit times this")
    public static let largeImageSlots = Declare.int(
        "sextant.executor.largeImageSlots", .extraction, .process, default: 2,
        doc: "large images one process reads and extracts at once, so memory stays bounded (an 8k×8k float32 frame takes about 560 MB from read to catalog)")
    public static let largeImageBytes = Declare.size(
        "sextant.executor.largeImageBytes", .extraction, .process, default: 64 << 20, shown: "`64m`",
        doc: "what counts as large: the image's pixels as float32, from the FITS header (else twice the file or object size)")

    public static let all = declarations(serialized, pixelStack, subObjectLimit, retryFactor,
                                         largeImageSlots, largeImageBytes)
}
