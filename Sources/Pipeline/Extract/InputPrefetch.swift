import Foundation
import Settings
import Storage

/// A task's inputs opened one ahead: while SEP works on input i, input i+1's object is already
/// being fetched from its store, so an executor does not sit idle waiting for bytes.
///
/// Memory is bounded by design: at most one input ahead, and only objects the listing says are
/// at most `sextant.input.prefetchBytes` (larger ones are fetched, or spooled, when their turn
/// comes, as before). Local files need no copy of ours: the kernel is asked to read the next one
/// ahead (`posix_fadvise WILLNEED`). A fetch error is thrown by `open(at:)`, where the same error
/// would have been thrown without the prefetch, so an input fails (or its task is retried) exactly
/// as it did before.
/// @unchecked: `lock` guards `pending`; each `Fetch` is written once, before its group leaves.
final class InputPrefetch: @unchecked Sendable {
    /// An input opened, and how long the task waited for its bytes.
    struct Opened {
        var input: ImageLoader.OpenedInput
        var waited: TimeInterval
    }

    private final class Fetch: @unchecked Sendable {
        let group = DispatchGroup()
        var result: Result<ImageLoader.OpenedInput, Error>?
    }

    private let inputs: [InputFile]
    private let stores: StoreCache
    private let settings: [String: String]
    private let limit: Int64
    private let lock = NSLock()
    private var pending: (index: Int, fetch: Fetch)?
    private static let queue = DispatchQueue(label: "sextant.input-prefetch", attributes: .concurrent)

    init(inputs: [InputFile], stores: StoreCache, settings: [String: String]) throws {
        self.inputs = inputs
        self.stores = stores
        self.settings = settings
        let conf = Configuration(settings)
        limit = min(try conf.value(of: StorageKeys.prefetchBytes), try conf.value(of: StorageKeys.spoolThreshold) - 1)
    }

    /// Input `index` opened (from the prefetch when there is one), after starting the next one's fetch.
    func open(at index: Int) throws -> Opened {
        let started = Date()
        let fetch: Fetch? = lock.withLock {
            defer { pending = nil }
            return pending?.index == index ? pending?.fetch : nil
        }
        prefetch(index + 1)
        let opened: ImageLoader.OpenedInput
        if let fetch {
            fetch.group.wait()
            opened = try fetch.result!.get()
        } else {
            opened = try ImageLoader.open(inputs[index], stores: stores, settings: settings)
        }
        // A local file is opened here without being read (CFITSIO reads it), so its wait is not counted.
        return Opened(input: opened, waited: Self.isRemote(inputs[index]) ? Date().timeIntervalSince(started) : 0)
    }

    private func prefetch(_ index: Int) {
        guard index < inputs.count, limit > 0 else { return }
        let input = inputs[index]
        guard Self.isRemote(input) else { return Self.adviseReadAhead(input.uri) }
        guard input.size > 0, input.size <= limit else { return }
        let fetch = Fetch()
        fetch.group.enter()
        let (stores, settings) = (stores, settings)
        Self.queue.async {
            fetch.result = Result { try ImageLoader.open(input, stores: stores, settings: settings) }
            fetch.group.leave()
        }
        lock.withLock { pending = (index, fetch) }
    }

    /// The input being fetched ahead, if any (for tests).
    var prefetchedIndex: Int? { lock.withLock { pending?.index } }

    /// Waits until the fetch ahead, if any, has its bytes or its error (for tests).
    func awaitPrefetch() { lock.withLock { pending?.fetch }?.group.wait() }

    static func isRemote(_ input: InputFile) -> Bool {
        input.uri.contains("://") && !input.uri.hasPrefix("file://")
    }

    /// Asks the kernel to start reading a local file (a network file system's too) in the background.
    private static func adviseReadAhead(_ uri: String) {
        let path = uri.hasPrefix("file://") ? String(uri.dropFirst("file://".count)) : uri
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }  // the input's own open reports why
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED)
        close(fd)
    }
}
