import Foundation
import Storage

/// One store per location and settings for the life of the process, so the tasks of a job
/// share connections (and an S3 client's credentials are resolved once, not per image).
/// @unchecked: `condition` guards `stores` and `making`.
final class StoreCache: @unchecked Sendable {
    static let shared = StoreCache()

    private struct Key: Hashable {
        var location: String
        var settings: [String: String]
    }
    private var stores: [Key: (store: ObjectStore, made: Date)] = [:]
    /// Keys whose store is being made now: others asking for one wait for it instead of making a second.
    private var making: Set<Key> = []
    /// Remote stores are made again this often, so temporary credentials (an instance role's
    /// rotate every few hours) are looked up afresh before they expire.
    private let remoteLifetime: TimeInterval
    private let condition = NSCondition()
    private let make: @Sendable (String, [String: String]) throws -> ObjectStore

    init(remoteLifetime: TimeInterval = 600,
         make: @escaping @Sendable (String, [String: String]) throws -> ObjectStore = { location, settings in
             try StoreFactory.makeStore(for: try StoreLocation(parsing: location), settings: settings)
         }) {
        self.remoteLifetime = remoteLifetime
        self.make = make
    }

    /// The store rooted at `location` (a directory or an s3://bucket/prefix). Making one (which
    /// may take seconds: credentials from the instance metadata service) happens outside the
    /// lock, so tasks that want another store, or a cached one, never wait for it.
    func store(for location: String, settings: [String: String]) throws -> ObjectStore {
        let key = Key(location: location, settings: settings.filter { $0.key.hasPrefix("sextant.s3.") || $0.key.hasPrefix("sextant.storage.") })
        condition.lock()
        while true {
            if let cached = stores[key],
               !location.contains("://") || Date().timeIntervalSince(cached.made) < remoteLifetime {
                condition.unlock()
                return cached.store
            }
            if !making.contains(key) { break }
            condition.wait()
        }
        making.insert(key)
        condition.unlock()
        let made = Result { try make(location, settings) }
        condition.lock()
        making.remove(key)
        if case .success(let store) = made { stores[key] = (store, Date()) }
        condition.broadcast()
        condition.unlock()
        return try made.get()
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
