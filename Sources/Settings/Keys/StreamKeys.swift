import Foundation

/// `sextant stream` (read by Pipeline's `StreamSettings`): how a watched input becomes batches.
public enum StreamKeys {
    public static let settleTime = Declare.duration(
        "sextant.stream.settleTime", .stream, .local, default: 2, shown: "`2s`",
        doc: "a file not renamed into place is taken once it has not changed (its mtime) for this long; a rename into a watched directory is taken at once; S3 objects are whole when listed")
    public static let pollInterval = Declare.duration(
        "sextant.stream.pollInterval", .stream, .local, default: 1, shown: "`1s`",
        doc: "how often the input is listed (with inotify, a rename wakes the stream at once and this is the fallback)")
    public static let maxFilesPerBatch = Declare.int(
        "sextant.stream.maxFilesPerBatch", .stream, .local, default: 256,
        doc: "at most this many files a batch (a batch is one job: one manifest, one checkpoint)")
    public static let order = Declare.string(
        "sextant.stream.order", .stream, .local, default: "oldest",
        doc: "`oldest`: a backlog runs oldest first, nothing skipped; `newest`: a batch takes the newest files and skips (logs, records) the rest of a larger backlog")
    public static let maxFileAge = Declare.duration(
        "sextant.stream.maxFileAge", .stream, .local, default: 0, positive: false, shown: "`0` (off)",
        doc: "skip files last modified longer ago than this (each is logged and recorded in its batch's `_stream/batches/N.json`); `0` takes every file")
    public static let window = Declare.int(
        "sextant.stream.window", .stream, .local, default: 4096, in: 16...1_000_000,
        doc: "names past the checkpoint's cursor remembered as done, so a file that lands out of name order (behind the newest by fewer than this many) is still taken")
    public static let pool = Declare.string(
        "sextant.stream.pool", .stream, .local, default: "stream",
        doc: "with `--master sextant://`, the scheduler pool a stream's batch jobs ask for (where the master has pools)")

    public static let all = declarations(settleTime, pollInterval, maxFilesPerBatch, order, maxFileAge, window, pool)
}
