import XCTest
@testable import Settings

final class BackoffTests: XCTestCase {
    func testDelaysDoubleUpToTheCapWithinTheirJitter() {
        let backoff = Backoff(initialDelay: 0.5, maxDelay: 15, jitter: 0.5)
        XCTAssertEqual((0..<8).map { backoff.ceiling(beforeRetry: $0) }, [0.5, 1, 2, 4, 8, 15, 15, 15])
        XCTAssertEqual(backoff.ceiling(beforeRetry: 10_000), 15, "no overflow on a long outage")
        for attempt in 0..<8 {
            let ceiling = backoff.ceiling(beforeRetry: attempt)
            let delays = (0..<200).map { _ in backoff.delay(beforeRetry: attempt) }
            XCTAssertTrue(delays.allSatisfy { $0 >= ceiling / 2 && $0 <= ceiling }, "attempt \(attempt): \(delays.min()!)...\(delays.max()!)")
            XCTAssertGreaterThan(Set(delays).count, 150, "attempt \(attempt): jittered, not one value")
        }
    }

    func testFullJitterAndNoJitter() {
        let full = Backoff(initialDelay: 0.1, maxDelay: 5)
        let delays = (0..<500).map { _ in full.delay(beforeRetry: 3) }
        XCTAssertTrue(delays.allSatisfy { $0 >= 0 && $0 <= 0.8 })
        XCTAssertLessThan(delays.min()!, 0.2, "full jitter reaches near zero")
        XCTAssertEqual(Backoff(initialDelay: 1, maxDelay: 60, jitter: 0).delay(beforeRetry: 3), 8)
        XCTAssertEqual(Backoff(initialDelay: 0, maxDelay: 5).delay(beforeRetry: 3), 0)
    }
}
