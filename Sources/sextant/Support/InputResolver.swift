import Engine
import Foundation
import Pipeline

/// Builds the InputListing the CLI uses: dataset names from datasets.txt resolve to
/// their generated directory, s3:// prefixes are listed through the store.
enum InputResolver {
    static func listing(configuration: Configuration, dryRun: Bool = false) throws -> InputListing {
        let datasetsFile = try configuration.value(of: DatasetKeys.file)
        let datasetsDir = try configuration.value(of: DatasetKeys.directory)
        let settings = configuration.values
        return InputListing(
            listRemote: { try RemoteInputs.list($0, settings: settings) },
            resolveDataset: { name in
                guard FileManager.default.fileExists(atPath: datasetsFile),
                      let catalog = try? DatasetCatalog(contentsOf: datasetsFile),
                      catalog.datasets.contains(where: { $0.name == name }) else { return nil }
                return datasetsDir + "/" + name
            },
            dryRun: dryRun,
            notice: { Console.error($0) })
    }
}
