import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Wakes a stream when something lands in a watched directory tree, and tells which names were
/// renamed into place (complete at once). Linux inotify through Glibc; elsewhere, or when
/// inotify cannot be had (no watches left, a file system without events such as NFS from
/// another host), `init` returns nil and the stream relies on listing alone. Listing stays the
/// truth either way: an event only wakes the stream sooner.
final class DirectoryWatcher {
    private let descriptor: Int32
    private let root: String
    /// Watch descriptor -> the key prefix of its directory ("" for the root, "a/b/" below it).
    private var directories: [Int32: String] = [:]
    /// Keys renamed into place since they were last taken (bounded: the oldest go first).
    private var renamed: [String: Date] = [:]
    private static let maxRenamed = 100_000

    #if canImport(Glibc)
    private static let mask = UInt32(IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE_SELF)
    #endif

    init?(root: String) {
        #if canImport(Glibc)
        self.root = root
        descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { return nil }
        guard watch(root, prefix: "") else {
            close(descriptor)
            return nil
        }
        watchSubdirectories(of: root, prefix: "")
        #else
        return nil
        #endif
    }

    deinit { close(descriptor) }

    /// The descriptor to poll for readability.
    var pollDescriptor: Int32 { descriptor }

    /// Whether `key` was renamed into place (and so is complete).
    func wasRenamed(_ key: String) -> Bool { renamed[key] != nil }

    /// Forgets keys the stream has taken.
    func forget(_ keys: [String]) { for key in keys { renamed[key] = nil } }

    /// Reads every pending event without blocking.
    func drain() {
        #if canImport(Glibc)
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { return }
            var offset = 0
            while offset + 16 <= count {
                let (wd, eventMask, length) = buffer.withUnsafeBytes { raw -> (Int32, UInt32, Int) in
                    (raw.loadUnaligned(fromByteOffset: offset, as: Int32.self),
                     raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self),
                     Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self)))
                }
                let nameBytes = buffer[(offset + 16)..<min(count, offset + 16 + length)].prefix { $0 != 0 }
                offset += 16 + length
                guard let prefix = directories[wd], !nameBytes.isEmpty else { continue }
                let key = prefix + String(decoding: nameBytes, as: UTF8.self)
                if eventMask & UInt32(IN_ISDIR) != 0 {
                    if eventMask & UInt32(IN_CREATE | IN_MOVED_TO) != 0 {
                        let path = root + "/" + key
                        if watch(path, prefix: key + "/") { watchSubdirectories(of: path, prefix: key + "/") }
                    }
                } else if eventMask & UInt32(IN_MOVED_TO) != 0 {
                    if renamed.count >= Self.maxRenamed, let oldest = renamed.min(by: { $0.value < $1.value }) {
                        renamed[oldest.key] = nil
                    }
                    renamed[key] = Date()
                }
            }
        }
        #endif
    }

    @discardableResult
    private func watch(_ path: String, prefix: String) -> Bool {
        #if canImport(Glibc)
        let wd = inotify_add_watch(descriptor, path, Self.mask)
        guard wd >= 0 else { return false }
        directories[wd] = prefix
        return true
        #else
        return false
        #endif
    }

    private func watchSubdirectories(of path: String, prefix: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return }
        for name in names where !name.hasPrefix(".") {
            var isDirectory: ObjCBool = false
            let child = path + "/" + name
            if FileManager.default.fileExists(atPath: child, isDirectory: &isDirectory), isDirectory.boolValue,
               watch(child, prefix: prefix + name + "/") {
                watchSubdirectories(of: child, prefix: prefix + name + "/")
            }
        }
    }
}

/// Sleeps until a timeout, a watcher's event or `wake()`, whichever comes first.
final class StreamWaiter: Sendable {
    private let pipeEnds: [Int32]

    init() {
        var ends: [Int32] = [-1, -1]
        _ = pipe(&ends)
        pipeEnds = ends
        for end in pipeEnds { _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK) }
    }

    deinit { pipeEnds.forEach { close($0) } }

    /// Ends a `wait` now (or the next one, if none is under way). Safe from any thread.
    func wake() {
        var byte: UInt8 = 1
        _ = write(pipeEnds[1], &byte, 1)
    }

    /// Returns true when woken by `wake()`.
    @discardableResult
    func wait(seconds: TimeInterval, watching descriptor: Int32?) -> Bool {
        var descriptors = [pollfd(fd: pipeEnds[0], events: Int16(POLLIN), revents: 0)]
        if let descriptor { descriptors.append(pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)) }
        let milliseconds = Int32(max(0, min(seconds, 3600)) * 1000)
        _ = poll(&descriptors, nfds_t(descriptors.count), milliseconds)
        guard descriptors[0].revents != 0 else { return false }
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(pipeEnds[0], &buffer, buffer.count) > 0 {}
        return true
    }
}
