import Foundation
import Hashing
import Storage

/// `sextant verify`: re-extracts the inputs of a finished job (all, or a seeded random sample)
/// with its recorded parameters and checks that every catalog is byte-identical, and that every
/// input still has the bytes it had (its SHA-256, else its size).
public struct Verifier: Sendable {
    public var record: JobRecord
    /// The settings to read inputs and outputs with (the verifying user's store and credentials).
    public var settings: [String: String]
    /// Check only this many inputs, drawn at random with `seed`; nil checks every one.
    public var sample: Int?
    public var seed: UInt64
    public var parallelism: Int
    /// Published SHA-256s by file name (a `urls` dataset's list): an input of that name must have them.
    public var published: [String: String]

    public init(record: JobRecord, settings: [String: String], sample: Int? = nil, seed: UInt64 = 0,
                parallelism: Int = ProcessInfo.processInfo.activeProcessorCount, published: [String: String] = [:]) {
        self.record = record
        self.published = published
        self.settings = settings
        self.sample = sample
        self.seed = seed
        self.parallelism = max(1, parallelism)
    }

    /// File name to SHA-256 from a URL list (`URL [SHA-256]` lines); files listed without one are left out.
    public static func publishedChecksums(list text: String, file: String) throws -> [String: String] {
        var checksums: [String: String] = [:]
        for remote in try RemoteFile.parseList(text, file: file) { checksums[remote.name] = remote.sha256 }
        return checksums
    }

    /// The recorded keys that decide catalogs (SEP's limits, the input checksum), over `settings`.
    static func settings(_ current: [String: String], recorded: [String: String]) -> [String: String] {
        current.merging(recorded.filter { $0.key.hasPrefix("sextant.extraction.") || $0.key.hasPrefix("sextant.provenance.") }) { _, old in old }
    }

    public func run(progress: (@Sendable (VerifyFinding?) -> Void)? = nil) throws -> VerifyReport {
        let provenance = record.provenance
        let settings = Self.settings(self.settings, recorded: provenance.settings)
        try SEPSettings.apply(settings)
        let maker = try CatalogMaker(parameters: provenance.parameters.parameters(output: record.output))
        let output = try StoreCache.shared.store(for: record.output, settings: settings)
        let chosen = Self.choose(record.catalogued, sample: sample, seed: seed)
        let checksum = provenance.inputChecksum

        let findings = try ParallelScan.results(count: chosen.count, parallelism: parallelism) { index -> [VerifyFinding]? in
            let (input, entry) = chosen[index]
            let found = try LargeImageGate.shared.run(pixelBytes: ImageFootprint.pixelBytes(of: input)) {
                try check(input, entry, maker: maker, output: output, settings: settings, checksum: checksum)
            }
            if found.isEmpty { progress?(nil) } else { found.forEach { progress?($0) } }
            return found
        }
        var all = record.withoutProvenance.map {
            VerifyFinding(input: $0.input, kind: .noProvenance, detail: "its manifest line has no provenance (an older Sextant made it)")
        }
        all += chosen.indices.flatMap { findings[$0] ?? [] }
        return VerifyReport(inputs: record.entries.count, checked: chosen.count, findings: all,
                            softwareDifferences: SoftwareVersions.current.differences(from: provenance.software))
    }

    private func check(_ input: InputFile, _ entry: ManifestEntry, maker: CatalogMaker, output: ObjectStore,
                       settings: [String: String], checksum: Bool) throws -> [VerifyFinding] {
        guard entry.split == true else {
            return try check(input, entry, catalog: entry.catalog, maker: maker, output: output, settings: settings,
                             checksum: checksum)
        }
        // A split input: every HDU's own catalog, each made alone as its task made it.
        return try (entry.hdus ?? []).flatMap { hdu -> [VerifyFinding] in
            var part = input
            part.hdu = hdu.hdu
            var one = entry
            one.sha256 = hdu.sha256
            return try check(part, one, catalog: hdu.catalog, maker: maker, output: output, settings: settings,
                             checksum: checksum)
        }
    }

    private func check(_ input: InputFile, _ entry: ManifestEntry, catalog: String?, maker: CatalogMaker,
                       output: ObjectStore, settings: [String: String], checksum: Bool) throws -> [VerifyFinding] {
        guard let catalogName = catalog, let recorded = entry.provenance else { return [] }
        var found: [VerifyFinding] = []
        let made: CatalogMaker.Made
        let expected = published[(input.uri as NSString).lastPathComponent]
        switch try maker.make(input, stores: StoreCache.shared, settings: settings, checksum: checksum,
                              hashOnly: expected != nil) {
        case .failed(let error):
            return [VerifyFinding(input: input.uri, kind: .inputUnreadable, detail: "\(error)")]
        case .made(let value):
            made = value
        case .split:
            preconditionFailure("verify makes catalogs without splitting")
        }
        if let was = recorded.inputSHA256, let now = made.fingerprint.sha256, was != now {
            found.append(VerifyFinding(input: input.uri, kind: .inputChanged, detail: "its bytes changed: SHA-256 was \(was), is \(now)"))
        } else if recorded.inputSHA256 == nil, made.fingerprint.size != recorded.inputSize {
            found.append(VerifyFinding(input: input.uri, kind: .inputChanged,
                                       detail: "its size changed: was \(recorded.inputSize) bytes, is \(made.fingerprint.size)"))
        }
        if let expected, let now = made.fingerprint.sha256, expected != now {
            found.append(VerifyFinding(input: input.uri, kind: .notAsPublished,
                                       detail: "its bytes are not the published file's: the list gives SHA-256 \(expected), it is \(now)"))
        }
        let name = catalogName
        guard let stored = try Self.get(name, from: output) else {
            found.append(VerifyFinding(input: input.uri, kind: .catalogMissing, detail: "its catalog \(name) is missing"))
            return found
        }
        if stored != made.bytes {
            let altered = entry.sha256.map { $0 != Digest.sha256(stored).hexString } ?? false
            found.append(VerifyFinding(input: input.uri, kind: .catalogDiffers, detail: altered
                ? "its catalog \(name) was changed after the job (its SHA-256 is not the manifest's)"
                : "its catalog \(name) differs from a new extraction (\(stored.count) bytes stored, \(made.bytes.count) made now)"))
        }
        return found
    }

    private static func get(_ name: String, from store: ObjectStore) throws -> Data? {
        do { return try store.get(name) } catch let error as StorageError where error.kind == .notFound { return nil }
    }

    /// Every catalogued input, or `sample` of them drawn without replacement, in manifest order.
    static func choose<T>(_ items: [T], sample: Int?, seed: UInt64) -> [T] {
        guard let sample, sample < items.count else { return items }
        var indices = Array(items.indices)
        var random = RandomSource(seed: seed)
        for i in 0..<sample {
            let j = i + Int(random.next() % UInt64(indices.count - i))
            indices.swapAt(i, j)
        }
        return indices.prefix(sample).sorted().map { items[$0] }
    }
}

public struct VerifyFinding: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case inputChanged = "input changed"
        case inputUnreadable = "input unreadable"
        case catalogMissing = "catalog missing"
        case catalogDiffers = "catalog differs"
        case noProvenance = "no provenance"
        case notAsPublished = "not as published"
    }

    public var input: String
    public var kind: Kind
    public var detail: String

    public var description: String { "\(input): \(kind.rawValue): \(detail)" }
}

public struct VerifyReport: Sendable {
    public var inputs: Int
    public var checked: Int
    public var findings: [VerifyFinding]
    /// Where this process's software differs from the job's (not a failure by itself: a
    /// catalog that a newer SEP changes differs, and is reported so).
    public var softwareDifferences: [String]

    public var passed: Bool { findings.isEmpty }

    public var summary: String {
        let bad = Set(findings.map(\.input)).count
        return passed ? "verify: \(checked) of \(inputs) inputs checked: every catalog is byte-identical"
            : "verify: \(checked) of \(inputs) inputs checked: \(bad) failed (\(findings.count) findings)"
    }
}
