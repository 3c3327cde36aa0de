import Engine
import Foundation
import Storage

/// Shuffle blobs in an `ObjectStore` (a directory or an S3 prefix): with
/// `ShuffleStores.shared(ObjectStoreShuffleBlobs(store:))`, map outputs live where every
/// executor reaches them and survive the executor that wrote them. Engine knows no S3; this
/// adapter is where the two meet.
public final class ObjectStoreShuffleBlobs: ShuffleBlobStore, Sendable {
    public let store: ObjectStore

    public init(store: ObjectStore) {
        self.store = store
    }

    /// One PUT (S3) or a temporary file renamed (local): readers see all of it or nothing.
    public func put(_ data: Data, at key: String) throws {
        try store.put(key, data: data)
    }

    public func read(_ key: String, range: Range<Int>) throws -> Data {
        let data = try missingAsShuffleError(key) { try store.get(key, range: range) }
        guard data.count == range.count else { throw ShuffleBlobTruncated(key: key, wanted: range, got: data.count) }
        return data
    }

    public func read(_ key: String) throws -> Data {
        try missingAsShuffleError(key) { try store.get(key, range: nil) }
    }

    public func removeAll(under prefix: String) {
        for object in (try? store.listAll(prefix: prefix + "/")) ?? [] { try? store.delete(object.key) }
    }

    private func missingAsShuffleError(_ key: String, _ body: () throws -> Data) throws -> Data {
        do {
            return try body()
        } catch let error as StorageError where error.kind == .notFound || error.kind == .invalidRange {
            throw ShuffleBlobMissing(key: key)
        }
    }
}
