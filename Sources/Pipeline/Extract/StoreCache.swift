import Foundation
import Storage

/// One store per location and settings for the life of the process, so the tasks of a job
/// share connections (and an S3 client's credentials are resolved once, not per image).
final class StoreCache: @unchecked Sendable {
    static let shared = StoreCache()

    private struct Key: Hashable {
        var location: String
        var settings: [String: String]
    }
    private var stores: [Key: (store: ObjectStore, made: Date)] = [:]
    /// Remote stores are made again this often, so temporary credentials (an instance role's
    /// rotate every few hours) are looked up afresh before they expire.
    private let remoteLifetime: TimeInterval = 600
    private let lock = NSLock()

    /// The store rooted at `location` (a directory or an s3://bucket/prefix).
    func store(for location: String, settings: [String: String]) throws -> ObjectStore {
        let key = Key(location: location, settings: settings.filter { $0.key.hasPrefix("sextant.s3.") })
        lock.lock(); defer { lock.unlock() }
        if let cached = stores[key],
           !location.contains("://") || Date().timeIntervalSince(cached.made) < remoteLifetime {
            return cached.store
        }
        let store = try StoreFactory.makeStore(for: try StoreLocation(parsing: location), settings: settings)
        stores[key] = (store, Date())
        return store
    }

    /// The store holding the bucket of an s3:// URI, the object's key in it, and the
    /// bucket's own URI (`s3://bucket`).
    func storeAndKey(for uri: String, settings: [String: String]) throws -> (store: ObjectStore, key: String, root: String) {
        guard let schemeEnd = uri.range(of: "://") else { throw InputError.notFound(uri) }
        let rest = uri[schemeEnd.upperBound...]
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let root = String(uri[..<slash])
        let key = slash == rest.endIndex ? "" : String(rest[rest.index(after: slash)...])
        return (try store(for: root, settings: settings), key, root)
    }
}
