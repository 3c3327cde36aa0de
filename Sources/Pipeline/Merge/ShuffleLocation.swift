import Engine
import Foundation
import Storage

/// Where a job's shuffle keeps its map outputs, as its settings say (`sextant.shuffle.location`,
/// `sextant.shuffle.executorLocal`): how an executor process serving many jobs (a worker, a
/// cluster executor) finds each job's store, and how the driver makes the same one.
public enum ShuffleLocation {
    /// The settings that point a job's tasks at `location`.
    public static func settings(location: String, executorLocal: Bool) -> [String: String] {
        [SkyMergeKeys.shuffleLocation.name: location,
         SkyMergeKeys.shuffleExecutorLocal.name: executorLocal ? "true" : "false"]
    }

    /// The store a task of a job with these settings reads and writes: a directory through
    /// POSIX calls, an s3:// prefix through its ObjectStore. One per location and process.
    public static func store(settings: [String: String]) throws -> ShuffleStore {
        let configuration = Configuration(settings)
        guard let location = try configuration.value(of: SkyMergeKeys.shuffleLocation), !location.isEmpty else {
            throw ShuffleLocationMissing()
        }
        // A job names where its tasks write: on an executor, only under the roots it allows.
        try AllowedRoots(settings: settings).check(location, purpose: "the shuffle location is")
        let executorLocal = try configuration.value(of: SkyMergeKeys.shuffleExecutorLocal)
        return try cache.store(location: location, executorLocal: executorLocal, settings: settings)
    }

    /// `settings` with the location of a job's shuffle, unless they name one: a private temporary
    /// directory of executor-local outputs (local mode: the executors' own disk, recomputed when
    /// one is lost), or, `underOutput`, `SKY/_shuffle`, shared (a cluster: a place every executor
    /// reaches, outputs that survive). Also returns the temporary directory to remove after the job.
    static func jobSettings(_ settings: [String: String], jobID: String, skyOutput: String,
                            underOutput: Bool) throws -> ([String: String], URL?) {
        var settings = settings
        if let location = try Configuration(settings).value(of: SkyMergeKeys.shuffleLocation), !location.isEmpty {
            return (settings, nil)
        }
        if underOutput {
            let location = skyOutput.hasSuffix("/") ? skyOutput + "_shuffle" : skyOutput + "/_shuffle"
            settings.merge(Self.settings(location: location, executorLocal: false)) { $1 }
            return (settings, nil)
        }
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("sextant-shuffle-\(jobID)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        settings.merge(Self.settings(location: directory.path, executorLocal: true)) { $1 }
        return (settings, directory)
    }

    private static let cache = Stores()

    /// @unchecked: `lock` guards `stores`.
    private final class Stores: @unchecked Sendable {
        private var stores: [String: ShuffleStore] = [:]
        private let lock = NSLock()

        func store(location: String, executorLocal: Bool, settings: [String: String]) throws -> ShuffleStore {
            let key = "\(executorLocal) \(location)"
            lock.lock()
            if let store = stores[key] { lock.unlock(); return store }
            lock.unlock()
            let blobs: ShuffleBlobStore = location.contains("://")
                ? ObjectStoreShuffleBlobs(store: try StoreCache.shared.store(for: location, settings: settings))
                : DirectoryBlobStore(root: URL(fileURLWithPath: location))
            let store = BlobShuffleStore(blobs: blobs, executorLocal: executorLocal)
            lock.lock(); defer { lock.unlock() }
            stores[key] = stores[key] ?? store
            return stores[key]!
        }
    }
}

/// A shuffle task ran in another process without the job telling it where map outputs go.
struct ShuffleLocationMissing: Error, CustomStringConvertible {
    var description: String {
        "this task reads or writes a shuffle but its job did not set \(SkyMergeKeys.shuffleLocation.name)"
    }
}

extension OperatorRegistry {
    /// The shuffle's steps for a process that runs other processes' tasks (a local worker, a
    /// cluster executor): each task's store is the one its job's settings name.
    public func registerShuffleOperatorsFromSettings() {
        registerShuffleOperators { context in try ShuffleLocation.store(settings: context.settings) }
    }
}
