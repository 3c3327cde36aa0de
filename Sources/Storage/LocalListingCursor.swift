import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Walks a directory tree once, yielding its regular files in S3 key (byte) order.
///
/// It holds one sorted directory per level of depth, never the whole tree: a directory's
/// entries are sorted with `/` appended to subdirectory names, so a depth-first walk visits
/// keys in exactly the order a flat sort of the full keys would. Subtrees that cannot hold a
/// key after `start` or under `prefix` are never opened, so a cursor made for a later page
/// skips what came before without stat-ing it.
final class LocalListingCursor {
    private struct Entry {
        var name: String
        var sortKey: [UInt8]
        var isDirectory: Bool
    }

    private struct Level {
        var path: String
        var keyPrefix: String
        var entries: [Entry]
        var next = 0
        /// The directory's device and inode: a symbolic link back to one of its ancestors is not followed.
        var identity: [UInt64]
        /// The open directory: its files are stat-ed by name relative to it (`fstatat`), not by
        /// a path the kernel walks again from the root for each of them.
        var handle: OpaquePointer
    }

    let prefix: String
    private let prefixBytes: [UInt8]
    private let startBytes: [UInt8]?
    private var levels: [Level] = []
    private var peeked: ObjectInfo?
    /// When the cursor was last advanced: a cached cursor not used for a while is stale.
    private(set) var lastUsed = Date()

    /// A walk of `root` for keys under `prefix`, strictly after `start` when given.
    init(root: String, prefix: String, after start: String?) throws {
        self.prefix = prefix
        prefixBytes = Array(prefix.utf8)
        startBytes = start.map { Array($0.utf8) }
        let directoryPart = prefix.contains("/") ? String(prefix[..<prefix.lastIndex(of: "/")!]) : ""
        let top = directoryPart.isEmpty ? root : (root == "/" ? "/" : root + "/") + directoryPart
        var info = stat()
        if stat(top, &info) != 0 {
            if errno == ENOENT || errno == ENOTDIR { return }
            throw StorageError.posix(top, "list")
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { return }
        try push(top, keyPrefix: directoryPart.isEmpty ? "" : directoryPart + "/")
    }

    /// The next object without consuming it.
    func peek() throws -> ObjectInfo? {
        if peeked == nil { peeked = try advance() }
        return peeked
    }

    /// The next object in key order, or nil at the end.
    func next() throws -> ObjectInfo? {
        lastUsed = Date()
        if let object = peeked {
            peeked = nil
            return object
        }
        return try advance()
    }

    deinit {
        for level in levels { closedir(level.handle) }
    }

    private func advance() throws -> ObjectInfo? {
        while !levels.isEmpty {
            let depth = levels.count - 1
            guard levels[depth].next < levels[depth].entries.count else {
                closedir(levels.removeLast().handle)
                continue
            }
            let entry = levels[depth].entries[levels[depth].next]
            levels[depth].next += 1
            let key = levels[depth].keyPrefix + entry.name
            if entry.isDirectory {
                try push(levels[depth].path + "/" + entry.name, keyPrefix: key + "/")
                continue
            }
            var info = stat()
            guard fstatat(dirfd(levels[depth].handle), entry.name, &info, 0) == 0,
                  (info.st_mode & S_IFMT) == S_IFREG else { continue }  // vanished or special
            let modified = Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec) + TimeInterval(info.st_mtim.tv_nsec) / 1e9)
            return ObjectInfo(key: key, size: Int(info.st_size), modified: modified)
        }
        return nil
    }

    /// Reads, filters and sorts one directory and makes it the deepest level.
    private func push(_ directory: String, keyPrefix: String) throws {
        var info = stat()
        guard stat(directory, &info) == 0 else {
            if !levels.isEmpty { return }  // removed while listing
            throw StorageError.posix(directory, "open directory")
        }
        let identity = [UInt64(info.st_dev), UInt64(info.st_ino)]
        if levels.contains(where: { $0.identity == identity }) { return }  // a link loop
        guard let dir = opendir(directory) else {
            // A subdirectory removed while listing is no error; the top one was checked.
            if !levels.isEmpty && (errno == ENOENT || errno == ENOTDIR) { return }
            throw StorageError.posix(directory, "open directory")
        }
        let keyPrefixBytes = Array(keyPrefix.utf8)
        var entries: [Entry] = []
        while let record = readdir(dir) {
            let name = withUnsafeBytes(of: record.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name == "." || name == ".." || Self.holdsTemporaryMarker(name) { continue }
            guard let isDirectory = Self.isDirectory(record.pointee.d_type, name: name, in: dir) else { continue }
            var sortKey = Array(name.utf8)
            if isDirectory { sortKey.append(UInt8(ascii: "/")) }
            guard wanted(keyPrefixBytes + sortKey, isDirectory: isDirectory) else { continue }
            entries.append(Entry(name: name, sortKey: sortKey, isDirectory: isDirectory))
        }
        entries.sort { $0.sortKey.lexicographicallyPrecedes($1.sortKey) }
        levels.append(Level(path: directory, keyPrefix: keyPrefix, entries: entries, identity: identity, handle: dir))
    }

    private static let marker = Array(LocalStore.temporaryMarker.utf8)

    /// Whether `name` holds LocalStore's temporary marker: a byte search (Foundation's
    /// `contains` bridges to CFString, microseconds a name at 10^6 files).
    private static func holdsTemporaryMarker(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard bytes.count >= marker.count else { return false }
        return (0...(bytes.count - marker.count)).contains { start in
            bytes[start] == marker[0] && bytes[start..<(start + marker.count)].elementsEqual(marker)
        }
    }

    /// Whether `key` (a file's key, or a directory's key ending in `/`) can yield a listed object.
    private func wanted(_ key: [UInt8], isDirectory: Bool) -> Bool {
        if isDirectory {
            // Under the prefix, or the prefix continues inside it.
            guard key.starts(with: prefixBytes) || prefixBytes.starts(with: key) else { return false }
            // Every key inside starts with `key`: all of them precede the start unless it is inside too.
            if let startBytes, key.lexicographicallyPrecedes(startBytes), !startBytes.starts(with: key) { return false }
            return true
        }
        guard key.starts(with: prefixBytes) else { return false }
        if let startBytes, !startBytes.lexicographicallyPrecedes(key) { return false }
        return true
    }

    /// True for a directory, false for a regular file, nil for anything else; follows symbolic links.
    private static func isDirectory(_ type: UInt8, name: String, in directory: OpaquePointer) -> Bool? {
        switch Int32(type) {
        case Int32(DT_DIR): return true
        case Int32(DT_REG): return false
        case Int32(DT_LNK), Int32(DT_UNKNOWN):
            var info = stat()
            guard fstatat(dirfd(directory), name, &info, 0) == 0 else { return nil }
            switch info.st_mode & S_IFMT {
            case S_IFDIR: return true
            case S_IFREG: return false
            default: return nil
            }
        default: return nil
        }
    }
}

/// The cursors of listings in progress, by the key their next page starts after. Few and
/// short-lived: a cursor idle for a minute is dropped (the next page then seeks afresh).
/// @unchecked: `lock` guards `slots`.
final class CursorCache: @unchecked Sendable {
    private struct Slot {
        var prefix: String
        var after: String
        var cursor: LocalListingCursor
    }

    private let lock = NSLock()
    private var slots: [Slot] = []
    private let capacity = 16
    private let idleLimit: TimeInterval = 60

    /// Removes and returns the cursor that stopped after `after` for `prefix`, if any.
    func take(prefix: String, after: String?) -> LocalListingCursor? {
        guard let after else { return nil }
        lock.lock(); defer { lock.unlock() }
        slots.removeAll { $0.cursor.lastUsed.timeIntervalSinceNow < -idleLimit }
        guard let index = slots.firstIndex(where: { $0.prefix == prefix && $0.after == after }) else { return nil }
        return slots.remove(at: index).cursor
    }

    func keep(_ cursor: LocalListingCursor, after: String) {
        lock.lock(); defer { lock.unlock() }
        if slots.count >= capacity { slots.removeFirst() }
        slots.append(Slot(prefix: cursor.prefix, after: after, cursor: cursor))
    }
}
