import Foundation
import Settings
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

    /// Flushed where it is and renamed into place when `file` is on the same file system, else copied.
    public func put(_ key: String, movingFrom file: URL) throws {
        let path = try self.path(for: key)
        let directory = (path as NSString).deletingLastPathComponent
        try makeDirectories(directory)
        if isDurable {
            let fd = open(file.path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw StorageError.posix(file.path, "open for reading") }
            defer { close(fd) }
            guard fsync(fd) == 0 else { throw StorageError.posix(file.path, "fsync") }
        }
        guard rename(file.path, path) == 0 else {
            guard errno == EXDEV else { throw StorageError.posix(path, "rename \(file.path) into place") }
            try put(key, contentsOf: file)
            unlink(file.path)
            return
        }
        guard isDurable else { return }
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            _ = fsync(dirFD)
            close(dirFD)
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

    /// Every object is written to its temporary file first, then the files are fsynced
    /// together (concurrently, so the file system's journal commits them in a few groups rather
    /// than once each), renamed into place, and each directory fsynced once: per tile of a sky
    /// merge that is about a third of two fsyncs a file (measured in docs/BENCHMARKS.md).
    public func putAll(_ objects: [(key: String, data: Data)]) throws {
        var pending: [(fd: Int32, tmp: String, path: String)] = []
        var renamed = 0
        defer {
            for (index, file) in pending.enumerated() {
                if file.fd >= 0 { close(file.fd) }
                if index >= renamed { unlink(file.tmp) }
            }
        }
        for object in objects {
            let path = try self.path(for: object.key)
            let directory = (path as NSString).deletingLastPathComponent
            try makeDirectories(directory)
            let tmp = directory + "/." + (path as NSString).lastPathComponent + LocalStore.temporaryMarker
                + UUID().uuidString.prefix(8)
            let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw StorageError.posix(path, "create temporary file in \(directory)") }
            pending.append((fd, tmp, path))
            try object.data.withUnsafeBytes { try writeAll(fd, $0, path: tmp) }
        }
        let failed = Locked<String?>(nil)
        let files = isDurable ? pending.map { ($0.fd, $0.tmp) } : []
        Self.concurrently(files.count) { index in
            if fsync(files[index].0) != 0 { failed.update { $0 = $0 ?? files[index].1 } }
        }
        if let tmp = failed.value { throw StorageError.posix(tmp, "fsync") }
        for index in pending.indices {
            let fd = pending[index].fd
            pending[index].fd = -1
            guard close(fd) == 0 else { throw StorageError.posix(pending[index].tmp, "close") }
        }
        for file in pending {
            guard rename(file.tmp, file.path) == 0 else {
                throw StorageError.posix(file.path, "rename temporary file into place")
            }
            renamed += 1
        }
        for directory in Set(pending.map { ($0.path as NSString).deletingLastPathComponent }) where isDurable {
            let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if dirFD >= 0 {
                _ = fsync(dirFD)
                close(dirFD)
            }
        }
    }

    /// Runs `body(0..<count)` on up to 8 threads of its own: blocked in fsync, not on the CPU,
    /// so more than the cores (Dispatch's concurrentPerform would run only as many).
    private static func concurrently(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let threads = min(8, count)
        guard threads > 1 else { (0..<count).forEach(body); return }
        let done = DispatchGroup()
        for first in 0..<threads {
            done.enter()
            Thread.detachNewThread {
                for index in stride(from: first, to: count, by: threads) { body(index) }
                done.leave()
            }
        }
        done.wait()
    }

    /// Temporary files of puts whose writer died (SIGKILL between create and rename), anywhere
    /// under the root. They never appear in listings; this takes them off the disk.
    /// One `readdir` walk that makes a String only of directories and temporary files: at 10^6
    /// catalogs a FileManager enumerator (a String, an NSString and a stat an entry) took 8 % of
    /// a resume's CPU. Symbolic links are not followed.
    public func removeAbandonedWrites() throws -> Int {
        var removed = 0
        var directories = [root]
        let marker = LocalStore.temporaryMarker
        while let directory = directories.popLast() {
            guard let dir = opendir(directory) else { continue }
            while let record = readdir(dir) {
                let kind = record.pointee.d_type
                let isTemporary = withUnsafeBytes(of: record.pointee.d_name) { raw -> Bool in
                    let name = raw.bindMemory(to: CChar.self).baseAddress!
                    return name[0] == CChar(UInt8(ascii: ".")) && strstr(name, marker) != nil
                }
                guard isTemporary || kind == DT_DIR || kind == DT_UNKNOWN else { continue }
                let name = withUnsafeBytes(of: record.pointee.d_name) { raw in
                    String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
                }
                if name == "." || name == ".." { continue }
                let path = directory + "/" + name
                var info = stat()
                if kind == DT_DIR || (kind == DT_UNKNOWN && lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR) {
                    directories.append(path)
                } else if isTemporary, unlink(path) == 0 {
                    removed += 1
                }
            }
            closedir(dir)
        }
        return removed
    }

    /// The probe of `ObjectStore.checkWritable` (a create, a write and a rename in the root, then
    /// a delete) without the two fsyncs that make a put durable: nothing of it is kept, and on a
    /// busy disk they cost 10-90 ms at the start of every job.
    public func checkWritable() throws {
        let probe = ".sextant-write-probe-\(UUID().uuidString)"
        do {
            let data = Data("sextant write probe\n".utf8)
            try writeAtomically(probe, durable: false) { fd, tmp in
                try data.withUnsafeBytes { try writeAll(fd, $0, path: tmp) }
            }
            try delete(probe)
        } catch let error as StorageError {
            throw error.with(location: location.description, context: "not writable")
        }
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

    /// `durable: false` skips both fsyncs (for a probe that is deleted at once), as `isDurable` false does for every put.
    private func writeAtomically(_ key: String, durable: Bool = true, _ body: (Int32, String) throws -> Void) throws {
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
            guard !(durable && isDurable) || fsync(fd) == 0 else { throw StorageError.posix(tmp, "fsync") }
        } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw StorageError.posix(tmp, "close") }
        guard rename(tmp, path) == 0 else { throw StorageError.posix(path, "rename temporary file into place") }
        committed = true
        guard durable && isDurable else { return }
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
