import Foundation

/// The sky merge's keys (`sextant merge`, `run --sky-order`): where its shuffle keeps map outputs.
public enum SkyMergeKeys {
    public static let shuffleLocation = Declare.optionalString(
        "sextant.shuffle.location", .scheduler, .job, shown: "see doc",
        doc: "where a job with a shuffle (the sky merge) keeps its map outputs: a directory or an `s3://bucket/prefix` every executor reaches. Default: a temporary directory in local mode; `SKY_OUT/_shuffle` on a cluster (removed when the job ends)")
    public static let shuffleExecutorLocal = Declare.bool(
        "sextant.shuffle.executorLocal", .scheduler, .job, default: false,
        doc: "map outputs under `sextant.shuffle.location` belong to the executor that wrote them and are recomputed when it is lost (local mode sets it: a worker process's outputs die with it, as on Spark's executor-local disks); false: they survive their executor (a shared directory or S3)")

    public static let all = declarations(shuffleLocation, shuffleExecutorLocal)
}
