import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Objects as files under a directory of a local or shared POSIX file system (NFS, Lustre, GPFS).
///
/// A put writes a temporary file in the destination directory, fsyncs it, renames it over the
/// final name and fsyncs the directory, so a reader on any node sees either no file or the whole
/// one. Temporary files are named `.<name>.sextant-tmp-<random>` and never appear in listings.
public final class LocalStore: ObjectStore, Sendable {
    public let root: String
    public let defaultPageSize: Int
    /// False (`sextant.storage.fsync false`): puts stay atomic (temporary file, rename) but are
    /// not flushed, so a machine crash can leave an empty or partial file under the final name.
    public let isDurable: Bool
    static let temporaryMarker = ".sextant-tmp-"
    private let cursors = CursorCache()

    /// A store rooted at directory `root` (created on first put if missing).
    public init(root: String, defaultPageSize: Int = 1000, isDurable: Bool = true) {
        self.root = StoreLocation.standardize(root)
        self.defaultPageSize = defaultPageSize
        self.isDurable = isDurable
    }

    public var location: StoreLocation { .file(path: root) }

    // MARK: Reading

    public func list(prefix: String, maxKeys: Int?, continuationToken: String?) throws -> ObjectListing {
        let limit = max(1, maxKeys ?? defaultPageSize)
        // The next page of a listing continues the cursor the previous page left, so a
        // listing walks the tree once however many pages it takes.
        let cursor = try cursors.take(prefix: prefix, after: continuationToken)
            ?? LocalListingCursor(root: root, prefix: prefix, after: continuationToken)
        var objects: [ObjectInfo] = []
        objects.reserveCapacity(min(limit, 4096))
        while objects.count < limit, let object = try cursor.next() { objects.append(object) }
        guard try cursor.peek() != nil, let last = objects.last?.key else {
            return ObjectListing(objects: objects, continuationToken: nil)
        }
        cursors.keep(cursor, after: last)
        return ObjectListing(objects: objects, continuationToken: last)
    }

    /// A continuation token here is the last key listed, so starting after a key is that token.
    public func list(prefix: String, startAfter: String, maxKeys: Int?) throws -> ObjectListing {
        try list(prefix: prefix, maxKeys: maxKeys, continuationToken: startAfter)
    }

    public func head(_ key: String) throws -> ObjectMetadata? {
        let path = try self.path(for: key)
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw StorageError.posix(path, "stat")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw StorageError(.invalidArgument, location: path, message: "not a regular file")
        }
        let nanos = Int(info.st_mtim.tv_sec) &* 1_000_000_000 &+ Int(info.st_mtim.tv_nsec)
        return ObjectMetadata(size: Int(info.st_size), etag: String(nanos, radix: 16) + "-" + String(info.st_size, radix: 16))
    }

    public func get(_ key: String, range: Range<Int>?) throws -> Data {
        let path = try self.path(for: key)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StorageError.posix(path, "open for reading") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw StorageError.posix(path, "stat") }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw StorageError(.invalidArgument, location: path, message: "not a regular file")
        }
        let size = Int(info.st_size)
        let wanted = try clip(range, size: size, location: path)
        var data = Data(count: wanted.count)
        var done = 0
        try data.withUnsafeMutableBytes { buffer in
            while done < wanted.count {
                let n = pread(fd, buffer.baseAddress! + done, wanted.count - done, off_t(wanted.lowerBound + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw StorageError.posix(path, "read")
                }
                if n == 0 { break }  // truncated underneath us
                done += n
            }
        }
        if done < wanted.count { data.count = done }
        return data
    }

    // MARK: Writing

    public func put(_ key: String, data: Data) throws {
        try writeAtomically(key) { fd, tmp in
            try data.withUnsafeBytes { try writeAll(fd, $0, path: tmp) }
        }
    }

    public func put(_ key: String, contentsOf file: URL) throws {
        let source = open(file.path, O_RDONLY | O_CLOEXEC)
        guard source >= 0 else { throw StorageError.posix(file.path, "open for reading") }
        defer { close(source) }
        try writeAtomically(key) { fd, tmp in
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let n = read(source, &buffer, buffer.count)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw StorageError.posix(file.path, "read")
                }
                if n == 0 { break }
                try buffer.withUnsafeBytes { try writeAll(fd, UnsafeRawBufferPointer(rebasing: $0[..<n]), path: tmp) }
            }
        }
    }

    /// Temporary files of puts whose writer died (SIGKILL between create and rename), anywhere
    /// under the root. They never appear in listings; this takes them off the disk.
    public func removeAbandonedWrites() throws -> Int {
        guard let walk = FileManager.default.enumerator(atPath: root) else { return 0 }
        var removed = 0
        while let relative = walk.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            guard name.hasPrefix("."), name.contains(LocalStore.temporaryMarker) else { continue }
            if unlink(root + "/" + relative) == 0 { removed += 1 }
        }
        return removed
    }

    public func delete(_ key: String) throws {
        let path = try self.path(for: key)
        if unlink(path) != 0 && errno != ENOENT { throw StorageError.posix(path, "delete") }
    }

    // MARK: Internals

    /// The file path of `key`; refuses keys that would escape the root.
    func path(for key: String) throws -> String {
        try ObjectKey.validate(key, under: location)
        return root == "/" ? "/" + key : root + "/" + key
    }

    private func writeAtomically(_ key: String, _ body: (Int32, String) throws -> Void) throws {
        let path = try self.path(for: key)
        let directory = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        try makeDirectories(directory)
        let tmp = directory + "/." + name + LocalStore.temporaryMarker + UUID().uuidString.prefix(8)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StorageError.posix(path, "create temporary file in \(directory)") }
        var committed = false
        defer { if !committed { unlink(tmp) } }
        do {
            try body(fd, tmp)
            guard !isDurable || fsync(fd) == 0 else { throw StorageError.posix(tmp, "fsync") }
        } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw StorageError.posix(tmp, "close") }
        guard rename(tmp, path) == 0 else { throw StorageError.posix(path, "rename temporary file into place") }
        committed = true
        guard isDurable else { return }
        // Make the rename itself durable: on a crash the directory entry must survive too.
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            _ = fsync(dirFD)
            close(dirFD)
        }
    }

    private func makeDirectories(_ directory: String) throws {
        var info = stat()
        if stat(directory, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFDIR else {
                throw StorageError(.invalidArgument, location: directory, message: "not a directory")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StorageError(.accessDenied, location: directory, message: "cannot create directory: \(error.localizedDescription)")
        }
    }
}

/// The part of `range` inside an object of `size` bytes; S3's rules for out-of-range requests.
func clip(_ range: Range<Int>?, size: Int, location: String) throws -> Range<Int> {
    guard let range else { return 0..<size }
    guard range.lowerBound >= 0 else {
        throw StorageError(.invalidRange, location: location, message: "negative range start \(range.lowerBound)")
    }
    if range.isEmpty { return range.lowerBound..<range.lowerBound }
    guard range.lowerBound < size else {
        throw StorageError(.invalidRange, location: location,
                           message: "range \(range.lowerBound)..<\(range.upperBound) starts past the end (\(size) bytes)")
    }
    return range.lowerBound..<min(range.upperBound, size)
}

private func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
    var done = 0
    while done < bytes.count {
        let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
        if n < 0 {
            if errno == EINTR { continue }
            throw StorageError.posix(path, "write")
        }
        done += n
    }
}
