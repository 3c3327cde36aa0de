import XCTest
@testable import Settings

final class DeclaredKeysTests: XCTestCase {
    func testTypedValuesUseTheOneParser() throws {
        let c = Configuration(["sextant.input.spoolThreshold": "256m", "sextant.network.timeout": "5min",
                               "sextant.s3.retryBaseDelay": "0.2", "sextant.s3.timeout": "2s",
                               "sextant.local.slots": "*", "sextant.executor.cores": "3"])
        XCTAssertEqual(try c.value(of: StorageKeys.spoolThreshold), 256 << 20)
        XCTAssertEqual(try c.value(of: ClusterKeys.networkTimeout), 300)
        XCTAssertEqual(try c.value(of: StorageKeys.s3RetryBaseDelay), 0.2, accuracy: 1e-12)
        XCTAssertEqual(try c.value(of: StorageKeys.s3Timeout), 2)
        XCTAssertNil(try c.value(of: SchedulerKeys.localSlots))
        XCTAssertEqual(try c.value(of: ClusterKeys.executorCores), 3)
        XCTAssertEqual(try Configuration().value(of: StorageKeys.spoolThreshold), 512 << 20, "default")
        XCTAssertEqual(try Configuration().value(of: ClusterKeys.executorCores), nil)
    }

    func testBadValuesNameKeyValueAndExpectationButNeverASecret() {
        XCTAssertThrowsError(try Configuration(["sextant.task.maxFailures": "four"]).value(of: SchedulerKeys.maxFailures)) {
            XCTAssertEqual("\($0)", "configuration key sextant.task.maxFailures: 'four' is not a whole number of at least 1")
        }
        XCTAssertThrowsError(try Configuration(["sextant.s3.partSize": "1m"]).value(of: StorageKeys.s3PartSize)) {
            XCTAssertEqual("\($0)", "configuration key sextant.s3.partSize: '1m' is not a size like 512k, 64m or 2g from 5m to 5g")
        }
        XCTAssertThrowsError(try Configuration(["sextant.speculation.quantile": "1.5"]).value(of: SchedulerKeys.speculationQuantile)) {
            XCTAssertTrue("\($0)".contains("from 0.0 to 1.0"), "\($0)")
        }
        let secret = Declare.int("test.secret", .cluster, .local, default: 1, doc: "")
        let hidden = ConfigKey(declaration: KeyDeclaration(name: secret.name, type: .integer, documentedDefault: "",
                                                           doc: "", section: .cluster, scope: .local, secret: true),
                               defaultValue: 1, expected: "a number", read: ValueParsers.int)
        XCTAssertThrowsError(try Configuration(["test.secret": "hunter2"]).value(of: hidden)) {
            XCTAssertFalse("\($0)".contains("hunter2"), "\($0)")
        }
    }

    func testUnknownKeysAreWarnedWithTheNearestKnownKey() {
        let c = Configuration(["sextant.input.spoolThresold": "256m", "sextant.speculation": "true",
                               "sextant.totally.new": "x", "spark.executor.memory": "4g"])
        XCTAssertEqual(c.unknownKeyWarnings(), [
            "unknown configuration key sextant.input.spoolThresold (did you mean sextant.input.spoolThreshold?)",
            "unknown configuration key sextant.totally.new; it is ignored",
        ])
    }

    func testEveryKeyIsDeclaredOnceAndScopesAreConsistent() {
        let names = ConfigurationKeys.all.map(\.name)
        XCTAssertEqual(names.count, Set(names).count, "a key declared twice")
        for key in ConfigurationKeys.all {
            XCTAssertTrue(key.name.hasPrefix("sextant."), key.name)
            XCTAssertFalse(key.doc.isEmpty, key.name)
            XCTAssertFalse(key.processWide && key.jobSettable, key.name)
            XCTAssertFalse(key.secret && key.jobSettable, key.name)
        }
        XCTAssertEqual(ConfigurationKeys.secretNames, ["sextant.s3.accessKey", "sextant.s3.secretKey",
                                                        "sextant.s3.sessionToken", "sextant.authenticate.secret",
                                                        "sextant.master.webhook"])
    }

    func testOnlyAJobsOwnNonSecretKeysTravel() {
        XCTAssertTrue(ConfigurationKeys.travels("sextant.task.maxFailures"))
        XCTAssertTrue(ConfigurationKeys.travels("sextant.s3.region"))
        XCTAssertFalse(ConfigurationKeys.travels("sextant.s3.endpoint"), "where credentials go is each node's own")
        XCTAssertFalse(ConfigurationKeys.travels("sextant.s3.metadataEndpoint"))
        XCTAssertFalse(ConfigurationKeys.travels("sextant.executor.allowedRoots"))
        XCTAssertTrue(ConfigurationKeys.travels("sextant.some.futureKey"), "unknown keys were warned about; they travel")
        XCTAssertFalse(ConfigurationKeys.travels("sextant.s3.secretKey"))
        XCTAssertFalse(ConfigurationKeys.travels("sextant.authenticate.secret"))
        XCTAssertFalse(ConfigurationKeys.travels("sextant.authenticate.secretFile"))
        XCTAssertFalse(ConfigurationKeys.travels("sextant.extraction.pixstack"), "an executor's own")
        XCTAssertFalse(ConfigurationKeys.travels("sextant.master.port"))
        XCTAssertFalse(ConfigurationKeys.travels("sextant.other.password"), "undeclared but named like a secret")
    }

    /// conf/sextant-defaults.conf parses, and each key it shows (commented out) is a declared one.
    func testTheShippedDefaultsFileNamesOnlyDeclaredKeys() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("conf/sextant-defaults.conf")
        _ = try Configuration.load(contentsOf: url)
        let shown = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").compactMap { line -> String? in
            let words = line.drop { $0 == "#" || $0 == " " }.split(separator: " ")
            return words.first.map(String.init).flatMap { $0.hasPrefix("sextant.") ? $0 : nil }
        }
        XCTAssertGreaterThan(shown.count, 20)
        for key in shown { XCTAssertNotNil(ConfigurationKeys.declaration(named: key), key) }
    }

    /// README.md's configuration table is generated: `sextant conf keys --markdown` prints it.
    func testReadmeTableIsTheGeneratedOne() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let section = try XCTUnwrap(KeyTable.generatedSection(of: text), "README.md lacks the generated-table markers")
        XCTAssertEqual(section, KeyTable.markdown(),
                       "README.md's key table is stale: replace it with `sextant conf keys --markdown`")
    }
}
