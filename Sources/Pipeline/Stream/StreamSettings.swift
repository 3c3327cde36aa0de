import Engine
import Foundation

/// How `sextant stream` turns a watched input into batches (`StreamKeys`).
public struct StreamSettings: Sendable, Equatable {
    public enum Order: String, Sendable { case oldest, newest }

    /// A file not renamed into place is complete once unchanged (by mtime) this long.
    public var settleTime: TimeInterval = StreamKeys.settleTime.defaultValue
    public var pollInterval: TimeInterval = StreamKeys.pollInterval.defaultValue
    public var maxFilesPerBatch: Int = StreamKeys.maxFilesPerBatch.defaultValue
    public var order: Order = .oldest
    /// Files older than this are skipped (logged and recorded); nil takes every file.
    public var maxFileAge: TimeInterval?
    /// Done names kept past the cursor (`StreamCheckpoint`).
    public var window: Int = StreamKeys.window.defaultValue
    /// The scheduler pool a cluster batch asks for.
    public var pool: String = StreamKeys.pool.defaultValue

    public init() {}

    public init(_ configuration: Configuration) throws {
        settleTime = try configuration.value(of: StreamKeys.settleTime)
        pollInterval = try configuration.value(of: StreamKeys.pollInterval)
        maxFilesPerBatch = try configuration.value(of: StreamKeys.maxFilesPerBatch)
        let orderText = try configuration.value(of: StreamKeys.order)
        guard let order = Order(rawValue: orderText) else {
            throw ConfigurationError.badValue(key: StreamKeys.order.name, value: orderText, expected: "oldest or newest")
        }
        self.order = order
        let age = try configuration.value(of: StreamKeys.maxFileAge)
        maxFileAge = age > 0 ? age : nil
        window = try configuration.value(of: StreamKeys.window)
        pool = try configuration.value(of: StreamKeys.pool)
    }
}
