import Engine
import Foundation

/// Operators that exist for the test suite and the benchmarks only: `bench.sleep`
/// (`SleepOperator`) and the chaos suite's crashing extract (`CrashingExtractOperator`, which
/// replaces `sextant.extract`). A process registers them only when SEXTANT_TEST_OPERATORS=1
/// is in its environment: off by default, set by the end-to-end tests, scripts/chaos and
/// scripts/bench for the `sextant` processes they start, never in production.
public enum TestOperators {
    public static let environmentVariable = "SEXTANT_TEST_OPERATORS"

    /// Registers the test operators when `environment` enables them; returns whether it did.
    @discardableResult
    public static func registerIfEnabled(in registry: OperatorRegistry,
                                         environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard environment[environmentVariable] == "1" else { return false }
        registry.register(SleepOperator.self)
        registry.register(CrashingExtractOperator.self)
        registry.register(ChaosCatalogTiles.self)
        registry.register(ChaosWriteSkyTiles.self)
        registry.register(ChaosExtractSkyTiles.self)
        return true
    }
}
