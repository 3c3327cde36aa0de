import Foundation

/// One object in a listing: its key relative to the store's location, and its size in bytes.
public struct ObjectInfo: Equatable, Sendable {
    public var key: String
    public var size: Int
    /// When it was last written (a file's mtime, an object's LastModified), when the listing says.
    public var modified: Date?

    public init(key: String, size: Int, modified: Date? = nil) {
        self.key = key
        self.size = size
        self.modified = modified
    }
}

/// What `head` reports about an existing object.
public struct ObjectMetadata: Equatable, Sendable {
    public var size: Int
    /// An opaque version tag: the S3 ETag (without quotes), or mtime and size for a file.
    public var etag: String

    public init(size: Int, etag: String) {
        self.size = size
        self.etag = etag
    }
}

/// One page of a listing. Pass `continuationToken` back to `list` for the next page; nil means last page.
public struct ObjectListing: Equatable, Sendable {
    public var objects: [ObjectInfo]
    public var continuationToken: String?

    public init(objects: [ObjectInfo], continuationToken: String?) {
        self.objects = objects
        self.continuationToken = continuationToken
    }
}

/// A place that holds named blobs: a directory on a (shared) POSIX file system or an S3 bucket prefix.
///
/// Keys are relative to the store's `location` and use `/` as separator. Every call is
/// synchronous and safe to make from several threads at once (the pipeline calls stores from
/// its worker threads). Failures throw `StorageError`.
public protocol ObjectStore: AnyObject, Sendable {
    /// Where the store is rooted; keys are relative to it.
    var location: StoreLocation { get }

    /// Objects whose keys start with `prefix`, in key order, at most `maxKeys` per page
    /// (nil: the store's default page size).
    func list(prefix: String, maxKeys: Int?, continuationToken: String?) throws -> ObjectListing

    /// The first page of objects under `prefix` whose keys sort after `startAfter` (S3's
    /// start-after); continue with `list(prefix:maxKeys:continuationToken:)`. A watcher lists
    /// only what is new since its cursor.
    func list(prefix: String, startAfter: String, maxKeys: Int?) throws -> ObjectListing

    /// Size and version tag of `key`, or nil when there is no such object.
    func head(_ key: String) throws -> ObjectMetadata?

    /// The bytes of `key` in `range` (half-open, clipped to the object's end), or all of it when nil.
    /// Throws `.notFound` when absent and `.invalidRange` when the range starts past the end.
    func get(_ key: String, range: Range<Int>?) throws -> Data

    /// Stores `data` under `key`. Atomic: readers see the old object or the whole new one.
    func put(_ key: String, data: Data) throws

    /// Stores the contents of a local file under `key`, atomically, without holding it all in memory.
    func put(_ key: String, contentsOf file: URL) throws

    /// `put(_:contentsOf:)` of a temporary file the caller is done with, which is gone afterwards:
    /// a file system renames it into place when it can (a manifest of 10^6 lines is 690 MB not copied).
    func put(_ key: String, movingFrom file: URL) throws

    /// Stores many small objects, each atomically as `put` does, durable when it returns. A file
    /// system makes them durable together (one flush of all, not two fsyncs each); a store
    /// without a cheaper way puts them one by one.
    func putAll(_ objects: [(key: String, data: Data)]) throws

    /// Removes `key`. Removing an absent key is not an error (as on S3).
    func delete(_ key: String) throws

    /// Removes what writers killed mid-put left behind (a file system's temporary files);
    /// returns how many. Call it only when no put can still be running (a job's end).
    func removeAbandonedWrites() throws -> Int

    /// Throws unless the store accepts writes (the extension's probe, unless a store has a cheaper one).
    func checkWritable() throws
}

extension ObjectStore {
    public func put(_ key: String, movingFrom file: URL) throws {
        try put(key, contentsOf: file)
        try? FileManager.default.removeItem(at: file)
    }

    public func putAll(_ objects: [(key: String, data: Data)]) throws {
        for object in objects { try put(object.key, data: object.data) }
    }

    /// Stores whose puts are atomic on the server (S3: one PUT or a completed upload) leave nothing.
    public func removeAbandonedWrites() throws -> Int { 0 }

    /// The whole object.
    public func get(_ key: String) throws -> Data {
        try get(key, range: nil)
    }

    /// Any store: pages from the start, keeping keys after `startAfter` (O(all keys); the
    /// stores here seek instead).
    public func list(prefix: String, startAfter: String, maxKeys: Int?) throws -> ObjectListing {
        var token: String?
        repeat {
            let page = try list(prefix: prefix, maxKeys: maxKeys, continuationToken: token)
            let after = page.objects.filter { startAfter.utf8.lexicographicallyPrecedes($0.key.utf8) }
            if !after.isEmpty || page.continuationToken == nil {
                return ObjectListing(objects: after, continuationToken: page.continuationToken)
            }
            token = page.continuationToken
        } while true
    }

    /// Streams every object under `prefix` after `startAfter` (all when nil) to `body`, in key order.
    public func forEachObject(prefix: String = "", startAfter: String?, pageSize: Int? = nil,
                              _ body: (ObjectInfo) throws -> Void) throws {
        guard let startAfter else { return try forEachObject(prefix: prefix, pageSize: pageSize, body) }
        var page = try list(prefix: prefix, startAfter: startAfter, maxKeys: pageSize)
        while true {
            try page.objects.forEach(body)
            guard let token = page.continuationToken else { return }
            page = try list(prefix: prefix, maxKeys: pageSize, continuationToken: token)
        }
    }

    /// Every object under `prefix`, following continuation tokens.
    public func listAll(prefix: String = "", pageSize: Int? = nil) throws -> [ObjectInfo] {
        var objects: [ObjectInfo] = []
        try forEachObject(prefix: prefix, pageSize: pageSize) { objects.append($0) }
        return objects
    }

    /// Streams every object under `prefix` to `body`, one page in memory at a time, in key order.
    public func forEachObject(prefix: String = "", pageSize: Int? = nil, _ body: (ObjectInfo) throws -> Void) throws {
        var token: String?
        repeat {
            let page = try list(prefix: prefix, maxKeys: pageSize, continuationToken: token)
            try page.objects.forEach(body)
            token = page.continuationToken
        } while token != nil
    }

    /// Proves at job start that the store accepts writes: puts and deletes a small probe object.
    /// A wrong key, a missing bucket or a read-only directory gives one clear error here
    /// instead of a failure per task later.
    public func checkWritable() throws {
        let probe = ".sextant-write-probe-\(UUID().uuidString)"
        do {
            try put(probe, data: Data("sextant write probe\n".utf8))
            try delete(probe)
        } catch let error as StorageError {
            throw error.with(location: location.description, context: "not writable")
        }
    }

    /// The full location of `key`, for messages and for handing to other tools.
    public func location(of key: String) -> StoreLocation {
        location.appending(key)
    }
}
