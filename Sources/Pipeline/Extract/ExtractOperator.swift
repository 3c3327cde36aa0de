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

    private let parameters: ExtractParameters
    private let extractor: Extractor

    public init(parameters: ExtractParameters) throws {
        self.parameters = parameters
        self.extractor = try Extractor(parameters: parameters.extraction)
    }

    public func apply(_ inputs: [InputFile], context: TaskContext) throws -> [ManifestEntry] {
        try SEPSettings.apply(context.settings)
        try LargeImageGate.shared.apply(context.settings)
        let stores = StoreCache.shared
        let output = try stores.store(for: parameters.output, settings: context.settings)
        return try inputs.map { input in
            try context.checkCancellation()
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
        let image: FITSImage
        do {
            image = try ImageLoader.load(input, hdu: parameters.hdu.selection, stores: stores,
                                         settings: context.settings)
        } catch let error as FITSError {
            return failed(error)
        } catch let error as StorageError where error.kind == .notFound {
            return failed(InputError.notFound(input.uri))
        } catch let error as InputError {
            return failed(error)
        }
        let catalog: Catalog
        do {
            let sky = try SkyImage(width: image.width, height: image.height, pixels: image.pixels,
                                   mask: image.mask.map(SkyImage.Mask.booleans), label: input.uri)
            catalog = try extractor.extract(sky)
        } catch let error as ExtractionError {
            return failed(error)
        }
        let bytes = try CatalogEncoder.encode(catalog, format: parameters.format,
                                              provenance: .init(input: input.relativePath, hdu: image.hdu,
                                                                extname: image.extname,
                                                                parameters: parameters.extraction))
        try output.put(catalogName, data: bytes)
        return ManifestEntry(input: input.uri, catalog: catalogName, outcome: .committed,
                             rows: catalog.count, bytes: bytes.count,
                             sha256: Digest.sha256(bytes).hexString,
                             seconds: Date().timeIntervalSince(started), executor: context.executor)
    }
}
