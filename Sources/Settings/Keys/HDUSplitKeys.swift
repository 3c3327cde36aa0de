import Foundation

/// One task per image HDU for large multi-extension files (read by Pipeline's extract operator).
public enum HDUSplitKeys {
    public static let splitAbove = Declare.int(
        "sextant.extract.splitHDUsAbove", .extraction, .job, default: 0, in: 0...Int.max,
        doc: "a file with more image HDUs than this is split by the task that opens it: each HDU becomes a task of its own with its own catalog (`f.hdu3.cat.fits`); 0 (the default): never, one catalog per file as before; `--hdu-tasks` sets 1; never with `--format ldac` or `--sky-order`")
    public static let keepCommitted = Declare.bool(
        "sextant.extract.keepCommittedHDUs", .extraction, .job, default: false,
        doc: "set by `--resume`: a split file's HDU whose catalog is already committed is kept, not extracted again")

    public static let all = declarations(splitAbove, keepCommitted)
}
