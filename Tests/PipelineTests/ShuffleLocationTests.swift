import Engine
import Foundation
import Pipeline
import XCTest

/// How a worker or executor finds a job's shuffle store: from the job's settings.
final class ShuffleLocationTests: XCTestCase {
    func testTheSettingsNameTheStoreOncePerLocationAndOnlyUnderAllowedRoots() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("shuffle-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: root) }
        let local = ShuffleLocation.settings(location: root.path, executorLocal: true)
        let store = try ShuffleLocation.store(settings: local)
        XCTAssertFalse(store.outputsSurviveExecutorLoss, "executor-local when the job says so")
        XCTAssertTrue(store === (try ShuffleLocation.store(settings: local)), "one store per location and process")
        let shared = try ShuffleLocation.store(settings: ShuffleLocation.settings(location: root.path, executorLocal: false))
        XCTAssertTrue(shared.outputsSurviveExecutorLoss)

        XCTAssertThrowsError(try ShuffleLocation.store(settings: [:])) {
            XCTAssertTrue("\($0)".contains(SkyMergeKeys.shuffleLocation.name), "\($0)")
        }
        var outside = ShuffleLocation.settings(location: "/etc/sextant-shuffle", executorLocal: false)
        outside[AllowedRoots.key] = root.path
        XCTAssertThrowsError(try ShuffleLocation.store(settings: outside)) {
            XCTAssertTrue("\($0)".contains("/etc/sextant-shuffle"), "\($0)")
        }
    }
}
