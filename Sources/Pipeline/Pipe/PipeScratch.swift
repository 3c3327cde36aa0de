import Foundation
import Storage

/// One input's scratch directory: the staged input, the outputs before their commit, and the
/// program's stderr (its stdout goes to /dev/null). Removed when the input is done, whatever happened.
struct PipeScratch {
    let directory: URL

    init() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("sextant-pipe-\(UUID().uuidString.prefix(12).lowercased())")
        // Made under the lock `removeAll` takes, so none appears after it (the process is leaving).
        try Self.live.withLock { live in
            guard !live.closed else { throw PipeError.spawnFailed(program: "--pipe", reason: "the process is stopping") }
            for sub in ["in", "out"] {
                try FileManager.default.createDirectory(at: directory.appendingPathComponent(sub),
                                                        withIntermediateDirectories: true)
            }
            live.members.insert(directory)
        }
        self.directory = directory
    }

    /// Scratch directories in use, so a process leaving at once can remove them.
    private static let live = LiveScratch()

    /// Removes every scratch directory still in use, and makes no more (the process is exiting).
    static func removeAll() {
        live.withLock { live in
            live.closed = true
            for directory in live.members { try? FileManager.default.removeItem(at: directory) }
        }
    }

    var stderrPath: String { directory.appendingPathComponent("stderr").path }

    /// Where the program writes the output committed as `name`: its own file name, so a
    /// program that looks at extensions sees the real one.
    func outputPath(_ name: String) -> String {
        directory.appendingPathComponent("out").appendingPathComponent((name as NSString).lastPathComponent).path
    }

    /// A local path to the input: its own absolute path, or a staged copy of an object (under
    /// its own file name, in ranged reads so memory stays bounded). Throws `InputError` when
    /// there is no such input; a store that fails otherwise throws its own error (retried).
    func stage(_ input: InputFile, settings: [String: String]) throws -> String {
        let uri = input.uri
        guard uri.contains("://"), !uri.hasPrefix("file://") else {
            let path = uri.hasPrefix("file://") ? String(uri.dropFirst("file://".count)) : uri
            let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
            guard FileManager.default.fileExists(atPath: absolute) else { throw InputError.notFound(uri) }
            return absolute
        }
        let (store, key, _) = try StoreCache.shared.storeAndKey(for: uri, settings: settings)
        var size = Int(input.size)
        if size <= 0 {
            guard let metadata = try store.head(key) else { throw InputError.notFound(uri) }
            size = metadata.size
        }
        let file = directory.appendingPathComponent("in").appendingPathComponent((key as NSString).lastPathComponent)
        do {
            try store.download(key, size: size, to: file)
        } catch let error as StorageError where error.kind == .notFound {
            throw InputError.notFound(uri)
        }
        return file.path
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
        Self.live.withLock { _ = $0.members.remove(directory) }
    }
}

/// The scratch directories in use, and whether the process has stopped making them.
/// @unchecked: `lock` guards `state`.
final class LiveScratch: @unchecked Sendable {
    struct State {
        var members: Set<URL> = []
        var closed = false
    }
    private let lock = NSLock()
    private var state = State()

    func withLock<T>(_ body: (inout State) throws -> T) rethrows -> T {
        lock.lock(); defer { lock.unlock() }
        return try body(&state)
    }
}
