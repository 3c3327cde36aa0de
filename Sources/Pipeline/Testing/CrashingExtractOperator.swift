import Engine
import Foundation

/// Fault injection for the chaos suite, registered only with the test operators
/// (`TestOperators`, SEXTANT_TEST_OPERATORS=1): the extract operator, except that a task
/// holding an input whose name contains "crash" aborts the whole process, as a native crash in
/// a C library would. It lets the suite prove that such a task is retried elsewhere and then
/// reported failed, while the production path stays untouched.
/// SEXTANT_CHAOS_TASK_DELAY=SECONDS also makes each input take at least that long, so faults
/// can land mid-job on small test frames.
struct CrashingExtractOperator: PartitionOperator {
    typealias Parameters = ExtractParameters
    static let name = ExtractOperator.name
    private let base: ExtractOperator

    init(parameters: ExtractParameters) throws {
        base = try ExtractOperator(parameters: parameters)
    }

    func apply(_ inputs: [InputFile], context: TaskContext) throws -> [ManifestEntry] {
        if inputs.contains(where: { URL(fileURLWithPath: $0.uri).lastPathComponent.contains("crash") }) { abort() }
        if let delay = Self.delay { Thread.sleep(forTimeInterval: delay * Double(inputs.count)) }
        return try base.apply(inputs, context: context)
    }

    private static let delay = ProcessInfo.processInfo.environment["SEXTANT_CHAOS_TASK_DELAY"].flatMap(Double.init)
}
