import Engine
import Foundation

extension AllowedRoots {
    /// Every input fails, naming `location`, when it (the output, a pipe's working directory)
    /// is outside sextant.executor.allowedRoots.
    func refusal(_ location: String, purpose: String, inputs: [InputFile], catalog: (InputFile) -> String?,
                 context: TaskContext) -> [ManifestEntry]? {
        guard !allows(location) else { return nil }
        let error = AccessError.outsideRoots(location, purpose: purpose, roots: roots ?? [])
        return inputs.map { Self.failedEntry($0, catalog: catalog($0), error: error, context: context) }
    }

    /// A failed entry when `input` is outside sextant.executor.allowedRoots: it is never opened.
    func refusal(_ input: InputFile, catalog: String?, context: TaskContext) -> ManifestEntry? {
        guard !allows(input.uri) else { return nil }
        let error = AccessError.outsideRoots(input.uri, purpose: "the input is", roots: roots ?? [])
        return Self.failedEntry(input, catalog: catalog, error: error, context: context)
    }

    private static func failedEntry(_ input: InputFile, catalog: String?, error: AccessError,
                                    context: TaskContext) -> ManifestEntry {
        ManifestEntry(input: input.uri, catalog: catalog, outcome: .failed, seconds: 0, executor: context.executor,
                      error: "\(error)")
    }
}

extension ExtractOperator {
    func refusal(output: String, inputs: [InputFile], roots: AllowedRoots, context: TaskContext) -> [ManifestEntry]? {
        roots.refusal(output, purpose: "the output is", inputs: inputs, catalog: catalogName, context: context)
    }

    func refusal(_ input: InputFile, roots: AllowedRoots, context: TaskContext) -> ManifestEntry? {
        roots.refusal(input, catalog: catalogName(input), context: context)
    }

    /// The input's catalog, or for one HDU of a split file that HDU's.
    func catalogName(_ input: InputFile) -> String {
        input.hdu.map { parameters.format.catalogName(for: input.relativePath, hdu: $0) }
            ?? parameters.format.catalogName(for: input.relativePath)
    }
}
