import Engine
import Extraction
import FITS
import Foundation
import Hashing
import Storage

/// The job's one operator: for each input image of a partition, read it, run SEP,
/// and commit its catalog under a deterministic name. Returns one manifest entry per input.
///
/// Errors that belong to the input (not FITS, truncated, a table HDU, SEP cannot measure it)
/// become a failed entry: retrying them cannot help. Errors that may pass (the store is
/// unreachable, a disk is full) are thrown, so the scheduler retries the task elsewhere.
public struct ExtractOperator: PartitionOperator, Sendable {
    public typealias Parameters = ExtractParameters
    public typealias Input = InputFile
    public typealias Output = ManifestEntry

    public static let name = "sextant.extract"

    let parameters: ExtractParameters
    private let maker: CatalogMaker

    public init(parameters: ExtractParameters) throws {
        try CheckImageNaming.validate(parameters.extraction.checkImages)
        self.parameters = parameters
        self.maker = try CatalogMaker(parameters: parameters)
    }

    public func apply(_ inputs: [InputFile], context: TaskContext) throws -> [ManifestEntry] {
        try extract(inputs, context: context).map(\.entry)
    }

    /// Each input's manifest entry and, when its catalog was committed, the catalog's bytes
    /// (`run --sky-order` reads the detections it shuffles from them).
    func extract(_ inputs: [InputFile], context: TaskContext) throws -> [(entry: ManifestEntry, catalog: Data?)] {
        // SEP's stack and the large-image slots are the process's (`ExtractionDriver.applyProcessSettings`,
        // from its own conf at start): a task never sets them, so concurrent jobs cannot change each other's.
        let checksum = try ProvenanceSettings(context.settings).inputChecksum
        let stores = StoreCache.shared
        let roots = AllowedRoots(settings: context.settings)
        if let refused = refusal(output: parameters.output, inputs: inputs, roots: roots, context: context) {
            return refused.map { ($0, nil) }
        }
        let output = try stores.store(for: parameters.output, settings: context.settings)
        var splitting = try HDUSplitting(context: context)
        // The next input's bytes arrive while this one is extracted (one ahead, bounded).
        let prefetch = try InputPrefetch(inputs: inputs, stores: stores, settings: context.settings)
        return try inputs.indices.map { index in
            let input = inputs[index]
            try context.checkCancellation()
            if let refused = refusal(input, roots: roots, context: context) { return (refused, nil) }
            // Huge frames wait for one of a few slots, so many cores do not mean many huge frames in memory.
            return try LargeImageGate.shared.run(pixelBytes: ImageFootprint.pixelBytes(of: input)) {
                try process(input, output: output, stores: stores, checksum: checksum, splitting: &splitting,
                            context: context, open: { try prefetch.open(at: index) })
            }
        }
    }

    private func process(_ input: InputFile, output: ObjectStore, stores: StoreCache, checksum: Bool,
                         splitting: inout HDUSplitting, context: TaskContext,
                         open: () throws -> InputPrefetch.Opened) throws -> (entry: ManifestEntry, catalog: Data?) {
        let started = Date()
        let catalogName = catalogName(input)
        let roots = AllowedRoots(settings: context.settings)
        var waited: TimeInterval?
        var outcome = try withoutActuallyEscaping(open) { open in
            try maker.make(input, stores: stores, settings: context.settings, checksum: checksum,
                           checkImages: true, isAllowed: { roots.allows($0) },
                           open: { let opened = try open(); waited = opened.waited; return opened.input },
                           splitAbove: splitting.threshold, checkCancellation: { try context.checkCancellation() })
        }
        if case .split(let hdus, let sha256) = outcome {
            if let entry = try splitting.handBack(input, hdus: hdus, sha256: sha256, catalog: catalogName,
                                                   format: parameters.format,
                                                   output: output, started: started, context: context) {
                return (entry, nil)
            }
            // More HDUs than this task may hand back: all of them here (opened again: the prefetch is spent).
            outcome = try maker.make(input, stores: stores, settings: context.settings, checksum: checksum,
                                     checkImages: true, isAllowed: { roots.allows($0) },
                                     checkCancellation: { try context.checkCancellation() })
        }
        switch outcome {
        case .split:
            preconditionFailure("made with splitAbove 0")
        case .failed(let error):
            return (ManifestEntry(input: input.uri, catalog: catalogName, outcome: .failed,
                                  seconds: Date().timeIntervalSince(started), executor: context.executor,
                                  error: ManifestEntry.errorLine(input: input.uri, message: "\(error)")), nil)
        case .made(let made):
            // Check images first: a committed catalog (what --resume and lineage look for) has its check images.
            for check in made.checkImages { try output.put(check.name, data: check.bytes) }
            try output.put(catalogName, data: made.bytes)
            var entry = ManifestEntry(input: input.uri, catalog: catalogName, outcome: .committed,
                                      rows: made.rows, bytes: made.bytes.count,
                                      sha256: Digest.sha256(made.bytes).hexString,
                                      seconds: Date().timeIntervalSince(started), executor: context.executor,
                                      hdus: made.fields.count > 1 || input.hdu != nil
                                          ? made.fields.map(HDUSummary.init) : nil)
            entry.waitSeconds = waited.flatMap { $0 > 0 ? $0 : nil }
            let keywords = try Configuration(context.settings).value(of: FrameKeys.keywords)
            entry.frames = made.fields.map { FrameMeasurement.row(of: $0, primary: made.primaryHeader, keywords: keywords) }
            let print = made.fingerprint
            entry.provenance = InputProvenance(inputSHA256: print.sha256, inputSize: print.size,
                                               inputETag: print.etag, inputModified: print.modified,
                                               path: input.relativePath, started: Timestamp.string(started),
                                               finished: Timestamp.string())
            return (entry, made.bytes)
        }
    }
}
