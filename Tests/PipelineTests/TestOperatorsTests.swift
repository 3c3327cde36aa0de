import Engine
import Pipeline
import XCTest

final class TestOperatorsTests: XCTestCase {
    /// A production process knows only the extract operator; the test operators need the variable.
    func testTestOperatorsAreRegisteredOnlyWhenTheEnvironmentAsks() {
        let production = OperatorRegistry()
        ExtractionDriver.registerOperators(in: production, environment: [:])
        // The extraction and the sky merge (its steps and the shuffle's, resolved from each job's settings).
        XCTAssertEqual(Set(production.names), [ExtractOperator.name, PipeOperator.name, "sextant.shuffle.write",
                                                "sextant.shuffle.read", "sextant.sky.catalog-tiles",
                                                "sextant.sky.write-tiles", "sextant.sky.fan-out", "sextant.sky.merge-tiles",
                                                "sextant.sky.extract-tiles"])
        XCTAssertFalse(production.contains(SleepOperator.name))

        let testing = OperatorRegistry()
        ExtractionDriver.registerOperators(in: testing, environment: [TestOperators.environmentVariable: "1"])
        XCTAssertTrue(testing.contains(SleepOperator.name))
        XCTAssertTrue(testing.contains(ExtractOperator.name))

        XCTAssertFalse(TestOperators.registerIfEnabled(in: OperatorRegistry(), environment: [TestOperators.environmentVariable: "0"]))
    }
}
