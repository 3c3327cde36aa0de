import Foundation

/// Stores and inputs (read by Storage's `S3Settings` and `StoreFactory`, and Pipeline's image loader).
/// A job's endpoint and region travel with its tasks; credentials never do.
public enum StorageKeys {
    public static let s3Endpoint = Declare.optionalString(
        "sextant.s3.endpoint", .storage, .process,
        shown: "`$AWS_ENDPOINT_URL_S3`, `$AWS_ENDPOINT_URL`, else `https://s3.<region>.amazonaws.com`",
        doc: "service URL (http or https)")
    public static let s3Region = Declare.optionalString(
        "sextant.s3.region", .storage, .job, shown: "`$AWS_REGION`, `$AWS_DEFAULT_REGION`, `us-east-1`",
        doc: "signing region")
    public static let s3PathStyle = Declare.key(
        "sextant.s3.pathStyle", .bool, .storage, .job, default: Bool?.none,
        shown: "`true` with a custom endpoint, else `false`", expected: "true or false",
        doc: "`endpoint/bucket/key` instead of `bucket.endpoint/key`") { ValueParsers.bool($0).map { .some($0) } }
    public static let s3AccessKey = Declare.optionalString(
        "sextant.s3.accessKey", .storage, .job, secret: true,
        doc: "access key id (last in the credential chain; goes with `sextant.s3.secretKey`)")
    public static let s3SecretKey = Declare.optionalString(
        "sextant.s3.secretKey", .storage, .job, secret: true,
        doc: "secret access key (goes with `sextant.s3.accessKey`)")
    public static let s3SessionToken = Declare.optionalString(
        "sextant.s3.sessionToken", .storage, .job, secret: true,
        doc: "session token of temporary credentials")
    public static let s3Profile = Declare.optionalString(
        "sextant.s3.profile", .storage, .process, shown: "`$AWS_PROFILE`, `default`",
        doc: "profile in the credentials file")
    public static let s3InstanceProfile = Declare.bool(
        "sextant.s3.instanceProfile", .storage, .process, default: false,
        doc: "last in the chain: the EC2 instance role's credentials from IMDSv2 (off unless asked, so nothing calls the metadata address by surprise); remote stores are rebuilt every 10 minutes so rotated credentials are picked up")
    public static let s3MetadataEndpoint = Declare.string(
        "sextant.s3.metadataEndpoint", .storage, .process, default: "http://169.254.169.254",
        doc: "the instance metadata service")
    public static let s3MultipartThreshold = Declare.size(
        "sextant.s3.multipartThreshold", .storage, .job, default: 64 << 20, in: 1...Int64.max, shown: "`64m`",
        doc: "objects at least this large are uploaded in parts")
    public static let s3PartSize = Declare.size(
        "sextant.s3.partSize", .storage, .job, default: 16 << 20, in: (5 << 20)...(5 << 30), shown: "`16m`",
        doc: "part size (5m to 5g)")
    public static let s3UploadConcurrency = Declare.int(
        "sextant.s3.uploadConcurrency", .storage, .job, default: 4, in: 1...64,
        doc: "parts of one upload in flight")
    public static let s3MaxRetries = Declare.int(
        "sextant.s3.maxRetries", .storage, .job, default: 5, in: 0...100,
        doc: "retries on 5xx, SlowDown, RequestTimeout, timeouts, dropped or refused connections, clock skew; never on other 4xx")
    public static let s3RetryBaseDelay = Declare.duration(
        "sextant.s3.retryBaseDelay", .storage, .job, default: 0.1, positive: false, shown: "`100ms`",
        doc: "the wait before retry n is random in [0, min(max, base·2ⁿ)]")
    public static let s3RetryMaxDelay = Declare.duration(
        "sextant.s3.retryMaxDelay", .storage, .job, default: 5, positive: false, shown: "`5s`",
        doc: "the longest wait between retries")
    public static let s3Timeout = Declare.duration(
        "sextant.s3.timeout", .storage, .job, default: 60, shown: "`60s`",
        doc: "time without progress before a request is abandoned (and retried)")
    public static let s3ListPageSize = Declare.int(
        "sextant.s3.listPageSize", .storage, .job, default: 1000, in: 1...1000,
        doc: "keys per ListObjectsV2 page")
    public static let listPageSize = Declare.int(
        "sextant.storage.listPageSize", .storage, .job, default: 1000,
        doc: "entries per page when listing a directory")
    public static let fsync = Declare.bool(
        "sextant.storage.fsync", .storage, .job, default: true,
        doc: "file-system outputs are flushed to disk (file and directory) before a put returns; `false` keeps puts atomic (temporary file, rename) but a machine crash can then leave a partial catalog that `--resume` takes as committed (`sextant verify` finds it): for scratch output and benchmarks")
    public static let spoolThreshold = Declare.size(
        "sextant.input.spoolThreshold", .storage, .job, default: 512 << 20, shown: "`512m`",
        doc: "objects larger than this are spooled to a temporary file before reading")
    public static let prefetchBytes = Declare.size(
        "sextant.input.prefetchBytes", .storage, .job, default: 64 << 20, shown: "`64m`",
        doc: "while a task extracts one input it fetches its next object from the store if it is at most this large (one input ahead, in memory), and an executor's worker fetches the first input of the task it holds ahead the same way; `0` turns both off. Local files get a read-ahead hint to the kernel instead")
    public static let maxPixels = Declare.size(
        "sextant.input.maxPixels", .storage, .job, default: 1 << 28, in: 1...Int64.max, shown: "`256m` (2^28)",
        doc: "pixels one image (and one compression tile) may have, checked against the header before any allocation; a larger image fails alone")
    public static let maxInflatedBytes = Declare.key(
        "sextant.input.maxInflatedBytes", .size, .storage, .job, default: Int64?.none,
        shown: "8 x `maxPixels` + `64m`", expected: "a size like 512k, 64m or 2g",
        doc: "bytes a gzip'd input may inflate to (in memory); a gzip bomb stops there") { text -> Int64?? in
        ValueParsers.size(text).flatMap { $0 > 0 ? .some($0) : nil }
    }

    public static let all = declarations(
        s3Endpoint, s3Region, s3PathStyle, s3AccessKey, s3SecretKey, s3SessionToken, s3Profile, s3InstanceProfile,
        s3MetadataEndpoint, s3MultipartThreshold, s3PartSize, s3UploadConcurrency, s3MaxRetries, s3RetryBaseDelay,
        s3RetryMaxDelay, s3Timeout, s3ListPageSize, listPageSize, fsync, spoolThreshold, prefetchBytes, maxPixels, maxInflatedBytes)
}
