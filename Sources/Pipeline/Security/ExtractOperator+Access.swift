import Engine
import Foundation

extension ExtractOperator {
    /// Every input fails, naming the output, when the output is outside sextant.executor.allowedRoots.
    func refusal(output: String, inputs: [InputFile], roots: AllowedRoots, context: TaskContext) -> [ManifestEntry]? {
        guard !roots.allows(output) else { return nil }
        let error = AccessError.outsideRoots(output, purpose: "the output is", roots: roots.roots ?? [])
        return inputs.map { failedEntry($0, error: error, context: context) }
    }

    /// A failed entry when `input` is outside sextant.executor.allowedRoots: it is never opened.
    func refusal(_ input: InputFile, roots: AllowedRoots, context: TaskContext) -> ManifestEntry? {
        guard !roots.allows(input.uri) else { return nil }
        let error = AccessError.outsideRoots(input.uri, purpose: "the input is", roots: roots.roots ?? [])
        return failedEntry(input, error: error, context: context)
    }

    private func failedEntry(_ input: InputFile, error: AccessError, context: TaskContext) -> ManifestEntry {
        ManifestEntry(input: input.uri, catalog: parameters.format.catalogName(for: input.relativePath),
                      outcome: .failed, seconds: 0, executor: context.executor, error: "\(error)")
    }
}
