import Foundation
import Storage

/// A finished or running job's files in its output, for downloads (the master's portal and REST
/// API): the manifest, and the catalogs it lists as committed. Only names the manifest lists
/// are served, so a request cannot read anything else in the output.
public struct JobOutputFiles {
    private let store: ObjectStore

    public init(output: String, settings: [String: String]) throws {
        store = try StoreFactory.makeStore(for: output, settings: settings)
    }

    /// `_manifest.jsonl`, nil until the driver has written it.
    public func manifest() throws -> Data? {
        try store.head(ExtractionDriver.manifestName) == nil ? nil : try store.get(ExtractionDriver.manifestName)
    }

    /// The catalogs committed (or kept from an earlier run), in manifest order; one line at a time.
    public func catalogs() throws -> [String] {
        guard let manifest = try manifest() else { return [] }
        let decoder = JSONDecoder()
        var names: [String] = []
        for line in manifest.split(separator: UInt8(ascii: "\n")) {
            guard let entry = try? decoder.decode(ManifestEntry.self, from: Data(line)),
                  entry.outcome == .committed || entry.outcome == .skipped, let catalog = entry.catalog else { continue }
            names.append(catalog)
        }
        return names
    }

    /// A file by its name in the output; nil when absent.
    public func file(_ name: String) throws -> Data? {
        try store.head(name) == nil ? nil : try store.get(name)
    }
}
