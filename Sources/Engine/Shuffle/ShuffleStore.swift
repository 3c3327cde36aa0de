import Foundation

/// Names one map task attempt's output. The attempt is part of the name, so a stale attempt
/// (a zombie of an earlier stage attempt, a lost executor's late write) never overwrites or
/// stands in for the output the map-output tracker registered.
public struct MapOutputID: Codable, Hashable, Sendable, CustomStringConvertible {
    public var shuffleID: String
    public var mapPartition: Int
    /// `TaskAttemptID.shuffleTag` of the attempt that wrote it.
    public var attempt: String

    public init(shuffleID: String, mapPartition: Int, attempt: String) {
        self.shuffleID = shuffleID
        self.mapPartition = mapPartition
        self.attempt = attempt
    }

    public var description: String { "\(shuffleID)/map-\(mapPartition)-\(attempt)" }
}

extension TaskAttemptID {
    /// The attempt as a file-name-safe tag: unique, since job ids are and attempts within a job are.
    public var shuffleTag: String { "\(jobID).a\(attempt)" }
}

/// Where map outputs go and how reducers fetch them: the shuffle's storage and transport.
/// Engine knows no sockets; a cluster transport implements this protocol.
///
/// A map task writes one output holding a segment per reduce partition; a reducer fetches
/// its segment of every map output. Implementations must make a written output appear
/// whole or not at all, and throw `ShuffleFetchError` when an output cannot be fetched.
public protocol ShuffleStore: AnyObject, Sendable {
    /// False when outputs live on their executor (its disk): losing the executor loses them,
    /// and the scheduler recomputes them without waiting for a reducer to find out.
    var outputsSurviveExecutorLoss: Bool { get }
    /// Writes `segments` (index = reduce partition) as the output of `id`, on `executor`.
    func writeMapOutput(_ id: MapOutputID, segments: [Data], on executor: ExecutorID) throws
    /// The segment of `reducePartition` in map output `id`, which `executor` wrote.
    func readSegment(_ id: MapOutputID, reducePartition: Int, writtenBy executor: ExecutorID) throws -> Data
    /// Stores a table the driver publishes for a stage (its map outputs' locations) under
    /// `name`, so that each task fetches it once per process instead of carrying it.
    func publish(_ data: Data, as name: String) throws
    func published(_ name: String) throws -> Data
    /// Deletes every output of a shuffle, and what was published under its id (best effort).
    func removeShuffle(_ shuffleID: String)
}

/// A map output could not be fetched; the reduce task reports it as a fetch failure.
public struct ShuffleFetchError: Error, CustomStringConvertible {
    public var output: MapOutputID
    public var reason: String

    public init(output: MapOutputID, reason: String) {
        self.output = output
        self.reason = reason
    }

    public var description: String { "cannot fetch map output \(output): \(reason)" }
}

/// A flat key space of immutable blobs with ranged reads: a directory tree, or an object
/// prefix (an S3 adapter implements the same three calls).
public protocol ShuffleBlobStore: Sendable {
    /// Stores `data` under `key` atomically (readers see all of it or nothing).
    func put(_ data: Data, at key: String) throws
    /// Bytes `range` of the blob at `key`; throws `ShuffleBlobMissing` when there is no such blob.
    func read(_ key: String, range: Range<Int>) throws -> Data
    /// The whole blob at `key`.
    func read(_ key: String) throws -> Data
    /// Deletes every blob whose key starts with `prefix`.
    func removeAll(under prefix: String)
}

public struct ShuffleBlobMissing: Error, CustomStringConvertible {
    public var key: String
    public init(key: String) { self.key = key }
    public var description: String { "no such shuffle blob: \(key)" }
}

/// Blobs as files under a root directory; `put` writes a temporary file and renames it.
public final class DirectoryBlobStore: ShuffleBlobStore, Sendable {
    public let root: URL

    public init(root: URL) {
        self.root = root
    }

    public func put(_ data: Data, at key: String) throws {
        let url = root.appendingPathComponent(key)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString.prefix(8)).tmp")
        // Plain POSIX calls: Foundation's Data.write costs several times more per small file,
        // and a map task writes one. No fsync: a lost output is recomputed from lineage.
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw Self.error(writing: url) }
        let written = data.withUnsafeBytes { bytes -> Bool in
            var offset = 0
            while offset < bytes.count {
                let count = Foundation.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if count < 0 { if errno == EINTR { continue }; return false }
                offset += count
            }
            return true
        }
        close(fd)
        if !written {
            let failure = Self.error(writing: url)
            unlink(temporary.path)
            throw failure
        }
        if rename(temporary.path, url.path) != 0 {
            let failure = Self.error(writing: url)
            unlink(temporary.path)
            throw failure
        }
    }

    private static func error(writing url: URL) -> Error {
        ShuffleWriteError(path: url.path, reason: String(cString: strerror(errno)))
    }

    public func read(_ key: String, range: Range<Int>) throws -> Data {
        let path = root.appendingPathComponent(key).path
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ShuffleBlobMissing(key: key) }
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(range.lowerBound))
        let data = try handle.read(upToCount: range.count) ?? Data()
        guard data.count == range.count else {
            throw ShuffleBlobTruncated(key: key, wanted: range, got: data.count)
        }
        return data
    }

    public func read(_ key: String) throws -> Data {
        do {
            return try Data(contentsOf: root.appendingPathComponent(key))
        } catch {
            throw ShuffleBlobMissing(key: key)
        }
    }

    public func removeAll(under prefix: String) {
        try? FileManager.default.removeItem(at: root.appendingPathComponent(prefix))
    }
}

public struct ShuffleWriteError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "cannot write shuffle output \(path): \(reason)" }
}

public struct ShuffleBlobTruncated: Error, CustomStringConvertible {
    public var key: String
    public var wanted: Range<Int>
    public var got: Int
    public init(key: String, wanted: Range<Int>, got: Int) {
        self.key = key
        self.wanted = wanted
        self.got = got
    }
    public var description: String {
        "shuffle blob \(key) is truncated: wanted bytes \(wanted.lowerBound)..<\(wanted.upperBound), got \(got)"
    }
}

/// A `ShuffleStore` over blobs, one blob per map output: a header of little-endian UInt64s
/// (the segment count R, then R+1 offsets) followed by the segments, so a reducer reads the
/// header's two offsets and its own segment, never the whole output (Spark's index file,
/// folded into the data file).
///
/// `executorLocal` puts each executor's outputs under its own prefix and declares them lost
/// with it (`ShuffleStores.executorLocal`); otherwise outputs are shared and survive
/// (`ShuffleStores.shared`).
public final class BlobShuffleStore: ShuffleStore, Sendable {
    public let blobs: ShuffleBlobStore
    public let executorLocal: Bool

    public init(blobs: ShuffleBlobStore, executorLocal: Bool) {
        self.blobs = blobs
        self.executorLocal = executorLocal
    }

    public var outputsSurviveExecutorLoss: Bool { !executorLocal }

    func key(of id: MapOutputID, executor: ExecutorID) -> String {
        let file = "\(id.shuffleID)/map-\(id.mapPartition)-\(id.attempt).data"
        return executorLocal ? "\(Self.safe(executor))/\(file)" : file
    }

    public func writeMapOutput(_ id: MapOutputID, segments: [Data], on executor: ExecutorID) throws {
        var header = [UInt64(segments.count)]
        var offset = UInt64((segments.count + 2) * 8)
        header.append(offset)
        for segment in segments {
            offset += UInt64(segment.count)
            header.append(offset)
        }
        var data = Data(capacity: Int(offset))
        for value in header { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        for segment in segments { data.append(segment) }
        try blobs.put(data, at: key(of: id, executor: executor))
    }

    public func readSegment(_ id: MapOutputID, reducePartition: Int, writtenBy executor: ExecutorID) throws -> Data {
        let key = key(of: id, executor: executor)
        do {
            let count = try Self.uint64s(blobs.read(key, range: 0..<8))[0]
            guard reducePartition >= 0, UInt64(reducePartition) < count else {
                throw ShuffleFetchError(output: id, reason: "it has \(count) segments, not \(reducePartition + 1)")
            }
            let at = 8 * (reducePartition + 1)
            let bounds = try Self.uint64s(blobs.read(key, range: at..<(at + 16)))
            guard bounds[0] <= bounds[1], bounds[1] - bounds[0] < UInt64(Int.max) else {
                throw ShuffleFetchError(output: id, reason: "its index is corrupt")
            }
            if bounds[0] == bounds[1] { return Data() }
            return try blobs.read(key, range: Int(bounds[0])..<Int(bounds[1]))
        } catch let error as ShuffleFetchError {
            throw error
        } catch {
            throw ShuffleFetchError(output: id, reason: "\(error)")
        }
    }

    public func publish(_ data: Data, as name: String) throws {
        try blobs.put(data, at: "_published/\(name)")
    }

    public func published(_ name: String) throws -> Data {
        try blobs.read("_published/\(name)")
    }

    public func removeShuffle(_ shuffleID: String) {
        blobs.removeAll(under: "_published/\(shuffleID)")
        if executorLocal, let root = (blobs as? DirectoryBlobStore)?.root,
           let executors = try? FileManager.default.contentsOfDirectory(atPath: root.path) {
            for executor in executors { blobs.removeAll(under: "\(executor)/\(shuffleID)") }
        } else {
            blobs.removeAll(under: shuffleID)
        }
    }

    /// Deletes every output `executor` wrote, when outputs are executor-local (best effort).
    public func removeOutputs(of executor: ExecutorID) {
        guard executorLocal else { return }
        blobs.removeAll(under: Self.safe(executor))
    }

    /// Little-endian UInt64s.
    private static func uint64s(_ data: Data) -> [UInt64] {
        let bytes = [UInt8](data)
        return stride(from: 0, to: bytes.count - 7, by: 8).map { start in
            (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[start + $1]) << (8 * UInt64($1)) }
        }
    }

    /// An executor id as one path component.
    static func safe(_ executor: ExecutorID) -> String {
        String(executor.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
    }
}

/// The two shuffle stores Engine ships.
public enum ShuffleStores {
    /// Outputs on the writing executor's own disk, a directory per executor under `directory`
    /// (Spark's default). Reducers read them directly when they share the file system (local
    /// mode); across machines a transport must serve them. Lost with their executor.
    public static func executorLocal(directory: URL) -> BlobShuffleStore {
        BlobShuffleStore(blobs: DirectoryBlobStore(root: directory), executorLocal: true)
    }

    /// Outputs under one prefix every executor reaches (a shared file system; an object store
    /// through its own `ShuffleBlobStore`). Survive their executor; need no listener.
    public static func shared(_ blobs: ShuffleBlobStore) -> BlobShuffleStore {
        BlobShuffleStore(blobs: blobs, executorLocal: false)
    }

    public static func shared(directory: URL) -> BlobShuffleStore {
        shared(DirectoryBlobStore(root: directory))
    }
}
