import XCTest
@testable import Engine

final class ConfigurationTests: XCTestCase {
    func testFileThenConfPairsThenFlags() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("defaults-\(UUID().uuidString).conf")
        try """
        # Sextant defaults
        sextant.task.maxFailures   6
        sextant.speculation        true   # stragglers on big runs

        sextant.speculation.minRuntime 2s
        sextant.local.slots=3
        """.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }

        let configuration = try Configuration.layered(
            defaultsFile: file,
            confPairs: ["sextant.task.maxFailures=8", "sextant.speculation.quantile = 0.9"],
            flags: ["sextant.task.maxFailures": "2", "sextant.job.failFast": nil])
        XCTAssertEqual(try configuration.int("sextant.task.maxFailures", default: 0), 2, "flag beats --conf beats file")
        XCTAssertEqual(try configuration.double("sextant.speculation.quantile", default: 0), 0.9, "--conf beats default")
        XCTAssertEqual(configuration["sextant.speculation"], "true", "comment stripped")
        XCTAssertNil(configuration["sextant.job.failFast"], "a nil flag leaves the key alone")

        let engine = try EngineSettings(configuration)
        XCTAssertEqual(engine.maxFailures, 2)
        XCTAssertTrue(engine.speculation)
        XCTAssertEqual(engine.speculationQuantile, 0.9)
        XCTAssertEqual(engine.speculationMinRuntime, 2)
        XCTAssertEqual(engine.localSlots, 3)
        XCTAssertEqual(engine.speculationMultiplier, 1.5, "untouched keys keep Spark's defaults")
        XCTAssertFalse(engine.failFast)
    }

    func testTypedGetters() throws {
        let configuration = Configuration(["d1": "500ms", "d2": "10s", "d3": "5min", "d4": "2h", "d5": "3",
                                           "s1": "64m", "s2": "512k", "s3": "2g", "s4": "100", "s5": "1.5k",
                                           "b1": "yes", "b2": "OFF", "i": " 42 "])
        XCTAssertEqual(try configuration.duration("d1", default: 0), 0.5)
        XCTAssertEqual(try configuration.duration("d2", default: 0), 10)
        XCTAssertEqual(try configuration.duration("d3", default: 0), 300)
        XCTAssertEqual(try configuration.duration("d4", default: 0), 7200)
        XCTAssertEqual(try configuration.duration("d5", default: 0), 3)
        XCTAssertEqual(try configuration.duration("missing", default: 7), 7)
        XCTAssertEqual(try configuration.size("s1", default: 0), 64 * 1024 * 1024)
        XCTAssertEqual(try configuration.size("s2", default: 0), 512 * 1024)
        XCTAssertEqual(try configuration.size("s3", default: 0), 2 * 1024 * 1024 * 1024)
        XCTAssertEqual(try configuration.size("s4", default: 0), 100)
        XCTAssertEqual(try configuration.size("s5", default: 0), 1536)
        XCTAssertTrue(try configuration.bool("b1", default: false))
        XCTAssertFalse(try configuration.bool("b2", default: true))
        XCTAssertEqual(try configuration.int("i", default: 0), 42)
    }

    func testBadInputNamesTheKeyTheValueOrTheLine() {
        XCTAssertThrowsError(try Configuration(["sextant.task.maxFailures": "four"])
            .int("sextant.task.maxFailures", default: 4)) { error in
            XCTAssertEqual("\(error)", "configuration key sextant.task.maxFailures: 'four' is not an integer")
        }
        XCTAssertThrowsError(try Configuration(["t": "10 parsecs"]).duration("t", default: 0)) { error in
            XCTAssertTrue("\(error)".contains("'10 parsecs' is not a duration"), "\(error)")
        }
        XCTAssertThrowsError(try Configuration.parse("ok 1\njustakey\n", source: "conf/x.conf")) { error in
            XCTAssertEqual("\(error)", "conf/x.conf:2: expected 'key value', found 'justakey'")
        }
        var configuration = Configuration()
        XCTAssertThrowsError(try configuration.apply(confPairs: ["sextant.speculation"])) { error in
            XCTAssertEqual("\(error)", "--conf expects key=value, found 'sextant.speculation'")
        }
        XCTAssertThrowsError(try Configuration.load(contentsOf: URL(fileURLWithPath: "/nonexistent/sextant.conf"))) {
            XCTAssertTrue("\($0)".contains("/nonexistent/sextant.conf"), "\($0)")
        }
        XCTAssertThrowsError(try EngineSettings(Configuration(["sextant.speculation.quantile": "1.5"]))) {
            XCTAssertTrue("\($0)".contains("from 0.0 to 1.0"), "\($0)")
        }
        XCTAssertThrowsError(try EngineSettings(Configuration(["sextant.speculation.interval": "0s"])))
        XCTAssertThrowsError(try EngineSettings(Configuration(["sextant.task.maxFailures": "0"])))
    }

    func testLocalSlotsStarMeansEveryCore() throws {
        XCTAssertNil(try EngineSettings(Configuration(["sextant.local.slots": "*"])).localSlots)
        XCTAssertEqual(LocalBackend(registry: OperatorRegistry(), slots: nil).slots,
                       ProcessInfo.processInfo.activeProcessorCount)
    }
}

final class LocalMasterTests: XCTestCase {
    func testSparkStyleLocalMasters() throws {
        XCTAssertEqual(try LocalBackend.slots(forMaster: "local"), 1)
        XCTAssertEqual(try LocalBackend.slots(forMaster: "local[6]"), 6)
        XCTAssertNil(try LocalBackend.slots(forMaster: "local[*]"))
        XCTAssertThrowsError(try LocalBackend.slots(forMaster: "local[0]"))
        XCTAssertThrowsError(try LocalBackend.slots(forMaster: "spark://host:7077")) {
            XCTAssertTrue("\($0)".contains("local, local[N] or local[*]"), "\($0)")
        }
    }
}
