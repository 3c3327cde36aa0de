import Foundation

/// The one retry wait of Sextant: exponential backoff with jitter, used by S3 requests, the
/// executor's reconnect to its master and dataset downloads (each with its own delays, from
/// configuration). It lives here, in the lowest module, so Storage, Cluster and Pipeline share it.
///
/// The wait before retry n (0-based) is random in `[(1 - jitter) * c, c]` where
/// `c = min(maxDelay, initialDelay * 2^n)`: `jitter` 1 is "full jitter" (AWS's recommendation
/// for many clients hitting one service), 0.5 keeps at least half the wait (a reconnect loop
/// that must not spin), 0 is plain exponential backoff.
public struct Backoff: Sendable, Equatable {
    public var initialDelay: TimeInterval
    public var maxDelay: TimeInterval
    public var jitter: Double

    public init(initialDelay: TimeInterval, maxDelay: TimeInterval, jitter: Double = 1) {
        self.initialDelay = max(0, initialDelay)
        self.maxDelay = max(0, maxDelay)
        self.jitter = min(1, max(0, jitter))
    }

    /// The longest wait before retry `attempt`.
    public func ceiling(beforeRetry attempt: Int) -> TimeInterval {
        min(maxDelay, initialDelay * pow(2, Double(min(max(0, attempt), 62))))
    }

    public func delay(beforeRetry attempt: Int) -> TimeInterval {
        var generator = SystemRandomNumberGenerator()
        return delay(beforeRetry: attempt, using: &generator)
    }

    public func delay<G: RandomNumberGenerator>(beforeRetry attempt: Int, using generator: inout G) -> TimeInterval {
        let ceiling = ceiling(beforeRetry: attempt)
        guard ceiling > 0, jitter > 0 else { return ceiling }
        return Double.random(in: (ceiling * (1 - jitter))...ceiling, using: &generator)
    }
}
