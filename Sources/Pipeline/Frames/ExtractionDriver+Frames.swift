import Engine
import Foundation
import Storage

extension ExtractionDriver {
    /// `--where`: leaves out of `pending` every input whose header does not match, with a manifest
    /// entry saying why (excluded), or that its header could not be read (failed).
    func applySelection(to entries: EntryTable, pending: inout [Int]) throws {
        guard let text = spec.selection else { return }
        let selection = try InputSelection(text: text, settings: spec.settings)
        let verdicts = selection.verdicts(for: spec.inputs, at: pending)
        guard !verdicts.isEmpty else { return }
        for (index, verdict) in verdicts {
            let input = spec.inputs[index]
            var entry = ManifestEntry(input: input.uri, catalog: spec.outputNames(for: input).first,
                                      outcome: .excluded, attempts: 0)
            switch verdict {
            case .selected: continue
            case .excluded(let reason): entry.reason = reason
            case .unreadable(let error): entry.outcome = .failed; entry.error = error
            }
            entries.set(entry, at: index, input: input, outputs: spec.outputNames(for: input))
            onEntry?(entry)
        }
        pending = pending.filter { verdicts[$0] == nil }
    }

    /// The frame table's writer, sized from the entries the manifest is about to write (nil for a
    /// `--pipe` job, which measures no frames).
    func frameTable(count: Int, entry: (Int) -> ManifestEntry) throws -> FrameTable? {
        guard spec.pipe == nil else { return nil }
        let keywords = try Configuration(spec.settings).value(of: FrameKeys.keywords)
        return try FrameTable(count: count, entry: entry, keywords: keywords)
    }
}

extension JobSpec {
    /// What `--where` would do to every input, without running anything (`run --dry-run`).
    public func selectionCounts() throws -> (selected: Int, excluded: Int, unreadable: Int) {
        guard let selection else { return (inputs.count, 0, 0) }
        let verdicts = try InputSelection(text: selection, settings: settings).verdicts(for: inputs, at: Array(inputs.indices))
        let unreadable = verdicts.values.filter { if case .unreadable = $0 { return true } else { return false } }.count
        return (inputs.count - verdicts.count, verdicts.count - unreadable, unreadable)
    }
}
