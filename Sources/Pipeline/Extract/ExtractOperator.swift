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
public struct ExtractOperator: PartitionOperator {
    public typealias Parameters = ExtractParameters
    public typealias Input = InputFile
    public typealias Output = ManifestEntry

    public static let name = "sextant.extract"

    let parameters: ExtractParameters
    private let extractor: Extractor

    public init(parameters: ExtractParameters) throws {
        self.parameters = parameters
        self.extractor = try Extractor(parameters: parameters.extraction)
    }

    public func apply(_ inputs: [InputFile], context: TaskContext) throws -> [ManifestEntry] {
        try SEPSettings.apply(context.settings)
        try LargeImageGate.shared.apply(context.settings)
        let stores = StoreCache.shared
        let roots = AllowedRoots(settings: context.settings)
        if let refused = refusal(output: parameters.output, inputs: inputs, roots: roots, context: context) {
            return refused
        }
        let output = try stores.store(for: parameters.output, settings: context.settings)
        return try inputs.map { input in
            try context.checkCancellation()
            if let refused = refusal(input, roots: roots, context: context) { return refused }
            // Huge frames wait for one of a few slots, so many cores do not mean many huge frames in memory.
            return try LargeImageGate.shared.run(pixelBytes: ImageFootprint.pixelBytes(of: input)) {
                try process(input, output: output, stores: stores, context: context)
            }
        }
    }

    private func process(_ input: InputFile, output: ObjectStore, stores: StoreCache,
                         context: TaskContext) throws -> ManifestEntry {
        let started = Date()
        let catalogName = parameters.format.catalogName(for: input.relativePath)
        func failed(_ error: Error) -> ManifestEntry {
            ManifestEntry(input: input.uri, catalog: catalogName, outcome: .failed,
                          seconds: Date().timeIntervalSince(started), executor: context.executor,
                          error: ManifestEntry.errorLine(input: input.uri, message: "\(error)"))
        }
        let fields: [CatalogField]
        do {
            let opened = try ImageLoader.open(input, stores: stores, settings: context.settings)
            fields = try hdus(of: opened).map { hdu in
                try context.checkCancellation()
                return try field(of: try opened.image(hdu), input: input)
            }
        } catch let error as FITSError {
            return failed(error)
        } catch let error as StorageError where error.kind == .notFound {
            return failed(InputError.notFound(input.uri))
        } catch let error as InputError {
            return failed(error)
        } catch let error as ExtractionError {
            return failed(error)
        }
        let bytes = try CatalogEncoder.encode(fields, format: parameters.format)
        try output.put(catalogName, data: bytes)
        return ManifestEntry(input: input.uri, catalog: catalogName, outcome: .committed,
                             rows: fields.reduce(0) { $0 + $1.catalog.count }, bytes: bytes.count,
                             sha256: Digest.sha256(bytes).hexString,
                             seconds: Date().timeIntervalSince(started), executor: context.executor,
                             hdus: fields.count > 1 ? fields.map(HDUSummary.init) : nil)
    }

    /// `--hdu` picks one; otherwise every image HDU (SExtractor's behaviour), and a file with
    /// one image (or none, which then fails as before) reads it as `.automatic` always did.
    private func hdus(of opened: ImageLoader.OpenedInput) throws -> [HDUSelection] {
        if !parameters.hdu.text.isEmpty { return [parameters.hdu.selection] }
        let indices = try opened.imageHDUs()
        return indices.count > 1 ? indices.map(HDUSelection.index) : [.automatic]
    }

    private func field(of image: FITSImage, input: InputFile) throws -> CatalogField {
        let sky = try SkyImage(width: image.width, height: image.height, pixels: image.pixels,
                               mask: image.mask.map(SkyImage.Mask.booleans), label: input.uri)
        var catalog = try extractor.extract(sky)
        let skyNote = parameters.extraction.columns.wantsSky
            ? SkyColumns.attach(to: &catalog, header: image.header, input: input.uri) : ""
        return CatalogField(catalog: catalog,
                            provenance: .init(input: input.relativePath, hdu: image.hdu, extname: image.extname,
                                              parameters: parameters.extraction),
                            imageHeader: image.header, sky: skyNote)
    }
}
