import Engine
import Foundation
import Storage

/// What a task may claim when it splits an input: each HDU once, each named as the driver names it.
enum SplitValidation {
    static func isValid(_ parts: [SplitPart], input: InputFile, format: CatalogFormat) -> Bool {
        guard !parts.isEmpty, parts.count <= ExtractionDriver.maxHandedBackHDUs,
              Set(parts.map(\.hdu)).count == parts.count else { return false }
        return parts.allSatisfy { part in
            part.hdu >= 0 && part.catalog == format.catalogName(for: input.relativePath, hdu: part.hdu)
                && (part.keptBytes.map { (0...RecordValidation.maxBytes).contains($0) } ?? true)
        }
    }
}

/// The driver's account of inputs split into one task per image HDU (`HDUSplitting`): which
/// handed-back partition extracts which HDU, what each HDU's task reported, and the input's one
/// manifest entry once every HDU is accounted for. Memory is per split HDU, nothing per plain input.
/// Thread-safe: the collector writes while the scheduler's lineage check reads.
/// @unchecked: `lock` guards every var.
final class SplitBook: @unchecked Sendable {
    struct Part {
        var hdu: Int
        var catalog: String
        /// Its task's entry (or the kept HDU's), once known.
        var entry: ManifestEntry?
    }

    private var splits: [Int: [Part]] = [:]
    /// Handed-back partition -> (input index, position in its parts).
    private var children: [Int: (input: Int, part: Int)] = [:]
    /// What an earlier run's manifest said of split inputs' HDUs (`--resume`), by input index.
    private var earlier: [Int: ManifestEntry] = [:]
    private let lock = NSLock()

    func isSplit(_ index: Int) -> Bool { lock.withLock { splits[index] != nil } }

    func noteEarlier(_ entry: ManifestEntry, at index: Int) { lock.withLock { earlier[index] = entry } }

    /// Records the split of input `index`; `added` are the partitions its task handed back, in
    /// order, for the parts without `keptBytes`. Returns false (nothing recorded) when the input is
    /// split already (a re-run of its partition) or the parts do not match the partitions.
    func begin(_ index: Int, input: InputFile, parts: [SplitPart], added: inout ArraySlice<Int>) -> Bool {
        lock.withLock {
            let handed = parts.filter { $0.keptBytes == nil }.count
            guard splits[index] == nil, handed <= added.count else { return false }
            let before = earlier[index]?.hdus ?? []
            var book: [Part] = []
            for part in parts {
                var entry: ManifestEntry?
                if let kept = part.keptBytes {
                    let was = before.first { $0.hdu == part.hdu && $0.catalog == part.catalog }
                    var skipped = ManifestEntry(input: input.uri, catalog: part.catalog, outcome: .skipped, attempts: 0,
                                                rows: was?.rows, bytes: kept, sha256: was?.sha256)
                    skipped.hdus = [HDUSummary(hdu: part.hdu, extname: was?.extname, rows: was?.rows)]
                    skipped.provenance = earlier[index]?.provenance
                    entry = skipped
                } else {
                    children[added.removeFirst()] = (index, book.count)
                }
                book.append(Part(hdu: part.hdu, catalog: part.catalog, entry: entry))
            }
            splits[index] = book
            return true
        }
    }

    /// The input and HDU a handed-back partition extracts, with the catalog it must commit.
    func child(_ partition: Int) -> (input: Int, hdu: Int, catalog: String)? {
        lock.withLock {
            guard let (input, part) = children[partition], let parts = splits[input] else { return nil }
            return (input, parts[part].hdu, parts[part].catalog)
        }
    }

    /// Sets what a handed-back partition's task did (again, when it was recomputed); returns the
    /// input's merged entry when every HDU is now accounted for.
    func finish(_ partition: Int, entry: ManifestEntry) -> (index: Int, entry: ManifestEntry)? {
        lock.withLock {
            guard let (input, part) = children[partition], var parts = splits[input] else { return nil }
            parts[part].entry = entry
            splits[input] = parts
            let entries = parts.compactMap(\.entry)
            guard entries.count == parts.count else { return nil }
            return (input, Self.merged(entries, parts: parts))
        }
    }

    /// The merged entry of input `index` when every HDU is accounted for (all kept, say).
    func mergedIfComplete(_ index: Int) -> ManifestEntry? {
        lock.withLock {
            guard let parts = splits[index] else { return nil }
            let entries = parts.compactMap(\.entry)
            return entries.count == parts.count ? Self.merged(entries, parts: parts) : nil
        }
    }

    /// Records how many attempts a handed-back partition took; returns the merged entry when complete.
    func setAttempts(_ attempts: Int, of partition: Int) -> (index: Int, entry: ManifestEntry)? {
        lock.withLock {
            guard let (input, part) = children[partition], var parts = splits[input] else { return nil }
            parts[part].entry?.attempts = attempts
            splits[input] = parts
            let entries = parts.compactMap(\.entry)
            return entries.count == parts.count ? (input, Self.merged(entries, parts: parts)) : nil
        }
    }

    /// The handed-back partitions whose HDU catalog was committed, for the end-of-job check.
    func committedChildren() -> [(partition: Int, catalog: String)] {
        lock.withLock {
            children.compactMap { partition, where_ in
                guard let part = splits[where_.input]?[where_.part], part.entry?.outcome == .committed else { return nil }
                return (partition, part.catalog)
            }
        }
    }

    /// One manifest entry for a split input: committed when every HDU is (some perhaps kept from an
    /// earlier run), skipped when all were kept, failed naming the first HDU that failed.
    static func merged(_ entries: [ManifestEntry], parts: [Part]) -> ManifestEntry {
        let first = entries[0]
        let failed = entries.first { $0.outcome != .committed && $0.outcome != .skipped }
        let outcome: ManifestEntry.Outcome = failed.map { $0.outcome == .notRun ? .notRun : .failed }
            ?? (entries.allSatisfy { $0.outcome == .skipped } ? .skipped : .committed)
        let names = parts.map(\.catalog)
        var entry = ManifestEntry(input: first.input, catalog: names.first, outcome: outcome,
                                  attempts: entries.map(\.attempts).max() ?? 0,
                                  rows: entries.allSatisfy { $0.rows != nil } ? entries.saturatingSum { $0.rows ?? 0 } : nil,
                                  bytes: entries.saturatingSum { $0.bytes ?? 0 },
                                  seconds: entries.compactMap(\.seconds).reduce(0, +),
                                  executor: entries.first { $0.executor != nil }?.executor,
                                  error: failed?.error, outputs: names)
        entry.split = true
        entry.hdus = zip(parts, entries).map { part, done in
            HDUSummary(hdu: part.hdu, extname: done.hdus?.first?.extname, rows: done.rows, catalog: part.catalog,
                       bytes: done.bytes, sha256: done.sha256)
        }
        let frames = entries.compactMap(\.frames).flatMap { $0 }
        entry.frames = frames.isEmpty ? nil : frames
        if var provenance = entries.first(where: { $0.provenance != nil })?.provenance {
            let times = entries.compactMap(\.provenance)
            provenance.started = times.map(\.started).min() ?? provenance.started
            provenance.finished = times.compactMap(\.finished).max() ?? provenance.finished
            entry.provenance = provenance
        }
        return entry
    }
}
