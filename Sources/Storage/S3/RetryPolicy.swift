import Foundation
import Settings
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// When to try an S3 request again and how long to wait: `Backoff` with full jitter (a random
/// wait in [0, min(maxDelay, base * 2^attempt)]), on answers that may succeed later.
struct RetryPolicy: Sendable {
    var maxRetries: Int
    var baseDelay: Double
    var maxDelay: Double

    /// Error codes worth another try even though some come with a 4xx status.
    static let retryableCodes: Set<String> = [
        "SlowDown", "RequestTimeout", "RequestTimeTooSkewed", "InternalError", "ServiceUnavailable",
        "Throttling", "ThrottlingException", "RequestLimitExceeded",
    ]

    static func isRetryable(status: Int, code: String?) -> Bool {
        if let code, retryableCodes.contains(code) { return true }
        return status >= 500 || status == 429
    }

    /// Connection refused, reset or dropped, timeouts, DNS hiccups: the server may be back soon.
    static func isRetryable(_ error: Error) -> Bool {
        guard let error = error as? URLError else { return false }
        switch error.code {
        case .timedOut, .cannotConnectToHost, .networkConnectionLost, .notConnectedToInternet,
             .cannotFindHost, .dnsLookupFailed, .badServerResponse, .zeroByteResource,
             .cannotParseResponse, .resourceUnavailable:
            return true
        default:
            return false
        }
    }

    func delay(beforeRetry attempt: Int) -> Double {
        Backoff(initialDelay: baseDelay, maxDelay: maxDelay, jitter: 1).delay(beforeRetry: attempt)
    }
}
