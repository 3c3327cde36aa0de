import Foundation

/// `sextant run --reproduce OUT/_manifest.jsonl --out NEW`: the job of a record, again, with its
/// inputs and parameters, refused before it starts when an input's bytes changed or the
/// software differs (the latter allowed with `allowNewer`). Only inputs that had a catalog run
/// again: failed inputs have none to compare with.
public struct Reproduction: Sendable {
    public var record: JobRecord
    public var output: String
    public var allowNewer: Bool

    public init(record: JobRecord, output: String, allowNewer: Bool = false) {
        self.record = record
        self.output = output
        self.allowNewer = allowNewer
    }

    /// Checks the software and every input, then returns the job to run. `settings` is the
    /// current configuration; the recorded keys that decide catalogs win over it.
    public func makeSpec(settings: [String: String],
                         parallelism: Int = ProcessInfo.processInfo.activeProcessorCount) throws -> JobSpec {
        let differences = SoftwareVersions.current.differences(from: record.provenance.software)
        if !differences.isEmpty, !allowNewer {
            throw ReproductionError.softwareDiffers(differences)
        }
        let settings = Verifier.settings(settings, recorded: record.provenance.settings)
        let changed = try InputCheck.changed(record.catalogued, settings: settings, parallelism: parallelism)
        if !changed.isEmpty { throw ReproductionError.inputsChanged(changed) }
        return JobSpec(inputs: record.catalogued.map(\.input),
                       parameters: record.provenance.parameters.parameters(output: output), settings: settings)
    }

    /// Compares the new job's catalogs with the recorded ones, by their SHA-256.
    public func compare(_ reproduced: [ManifestEntry]) -> ReproductionReport {
        let recorded = Dictionary(record.entries.map { ($0.input, $0) }, uniquingKeysWith: { a, _ in a })
        var identical = 0
        var differing: [String] = []
        for entry in reproduced {
            if let old = recorded[entry.input]?.catalogDigests, !old.isEmpty, entry.catalogDigests == old { identical += 1 }
            else { differing.append(entry.input) }
        }
        return ReproductionReport(identical: identical, differing: differing)
    }
}

public struct ReproductionReport: Sendable, Equatable {
    public var identical: Int
    /// Inputs whose new catalog is not byte-identical to the recorded one (or failed this time).
    public var differing: [String]

    public var summary: String {
        differing.isEmpty ? "reproduce: all \(identical) catalogs are byte-identical to the recorded ones"
            : "reproduce: \(identical) catalogs byte-identical, \(differing.count) differ: "
                + differing.prefix(10).joined(separator: ", ") + (differing.count > 10 ? ", ..." : "")
    }
}

public enum ReproductionError: Error, CustomStringConvertible, Equatable {
    case softwareDiffers([String])
    case inputsChanged([String])

    public var description: String {
        switch self {
        case .softwareDiffers(let list):
            return "cannot reproduce: the software differs from the job's (\(list.joined(separator: "; "))); "
                + "pass --allow-newer to run it anyway"
        case .inputsChanged(let lines):
            return "cannot reproduce: \(lines.count) inputs changed since the job:\n  "
                + lines.prefix(20).joined(separator: "\n  ") + (lines.count > 20 ? "\n  ..." : "")
        }
    }
}

/// Which recorded inputs no longer have their recorded bytes (SHA-256, else size).
enum InputCheck {
    static func changed(_ items: [(input: InputFile, entry: ManifestEntry)], settings: [String: String],
                        parallelism: Int) throws -> [String] {
        let found = try ParallelScan.results(count: items.count, parallelism: parallelism) { index -> String? in
            let (input, entry) = items[index]
            guard let recorded = entry.provenance else { return nil }
            do {
                let now = try InputFingerprint.of(input, settings: settings, checksum: recorded.inputSHA256 != nil)
                if let was = recorded.inputSHA256, let sha = now.sha256, was != sha {
                    return "\(input.uri): its bytes changed: SHA-256 was \(was), is \(sha)"
                } else if now.size != recorded.inputSize {
                    return "\(input.uri): its size changed: was \(recorded.inputSize) bytes, is \(now.size)"
                }
                return nil
            } catch let error as InputError {
                return "\(error)"
            }
        }
        return found.keys.sorted().map { found[$0]! }
    }
}

extension ManifestEntry {
    /// The SHA-256 of each catalog the input has: its one, or each HDU's of a split input; empty
    /// when any is unknown.
    var catalogDigests: [String] {
        let digests = split == true ? (hdus ?? []).map(\.sha256) : [sha256]
        let known = digests.compactMap { $0 }
        return known.count == digests.count ? known : []
    }
}
