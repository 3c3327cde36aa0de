import Engine
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

    final class Fetch: @unchecked Sendable {
        let group = DispatchGroup()
        var result: Result<ImageLoader.OpenedInput, Error>?

        /// Starts fetching `input` in the background (its store's own open: the same errors).
        static func start(_ input: InputFile, stores: StoreCache, settings: [String: String]) -> Fetch {
            let fetch = Fetch()
            fetch.group.enter()
            InputPrefetch.queue.async {
                fetch.result = Result { try ImageLoader.open(input, stores: stores, settings: settings) }
                fetch.group.leave()
            }
            return fetch
        }
    }

    private let inputs: [InputFile]
    private let stores: StoreCache
    private let settings: [String: String]
    private let limit: Int64
    private let lock = NSLock()
    private var pending: (index: Int, fetch: Fetch)?
    fileprivate static let queue = DispatchQueue(label: "sextant.input-prefetch", attributes: .concurrent)

    init(inputs: [InputFile], stores: StoreCache, settings: [String: String]) throws {
        self.inputs = inputs
        self.stores = stores
        self.settings = settings
        limit = try Self.limit(settings)
    }

    /// The largest object fetched ahead into memory: `prefetchBytes`, and below the spool threshold (never a file).
    static func limit(_ settings: [String: String]) throws -> Int64 {
        let conf = Configuration(settings)
        return min(try conf.value(of: StorageKeys.prefetchBytes), try conf.value(of: StorageKeys.spoolThreshold) - 1)
    }

    /// Input `index` opened (from the prefetch when there is one), after starting the next one's fetch.
    func open(at index: Int) throws -> Opened {
        let started = Date()
        var fetch: Fetch? = lock.withLock {
            defer { pending = nil }
            return pending?.index == index ? pending?.fetch : nil
        }
        // A task's first input may have been fetched while the task waited in its worker (AheadInputs).
        if fetch == nil, index == 0 { fetch = AheadInputs.shared.take(inputs[0]) }
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
        let fetch = Fetch.start(input, stores: stores, settings: settings)
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
    static func adviseReadAhead(_ uri: String) {
        let path = uri.hasPrefix("file://") ? String(uri.dropFirst("file://".count)) : uri
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }  // the input's own open reports why
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED)
        close(fd)
    }
}

/// The first input of the task a worker process holds next (`WorkerLoop`: one task ahead per worker),
/// fetched while the worker still runs the current one, so a task of one input (the default) does not
/// wait for its bytes either. Its own `InputPrefetch` takes it (`open(at: 0)`); a task that is
/// cancelled or withdrawn before it starts drops it (`discard`). At most `capacity` fetches are held
/// (a worker holds one task ahead), each at most `sextant.input.prefetchBytes` of the task's own conf;
/// a local file gets the kernel's read-ahead, not a copy.
/// @unchecked: `lock` guards `held`.
public final class AheadInputs: @unchecked Sendable {
    public static let shared = AheadInputs()

    private struct Held {
        let attempt: TaskAttemptID
        let uri: String
        let fetch: InputPrefetch.Fetch
    }

    private let lock = NSLock()
    private var held: [Held] = []
    private let capacity: Int
    private let stores: StoreCache

    init(capacity: Int = 2, stores: StoreCache = .shared) {
        self.capacity = capacity
        self.stores = stores
    }

    /// Starts fetching the first input of `spec` if it is an extraction whose input is remote and small enough.
    public func fetch(_ spec: TaskSpec) {
        guard spec.steps.first?.name == ExtractOperator.name, let record = spec.inputs.first,
              let input = try? JSONDecoder().decode(InputFile.self, from: Data(record.utf8)),
              let limit = try? InputPrefetch.limit(spec.settings), limit > 0 else { return }
        guard InputPrefetch.isRemote(input) else { return InputPrefetch.adviseReadAhead(input.uri) }
        guard input.size > 0, input.size <= limit else { return }
        let fetch = InputPrefetch.Fetch.start(input, stores: stores, settings: spec.settings)
        lock.withLock {
            held.removeAll { $0.attempt == spec.id }
            held.append(Held(attempt: spec.id, uri: input.uri, fetch: fetch))
            // Bounded whatever the caller does: the oldest goes (fetched again in its turn if it runs).
            if held.count > capacity { held.removeFirst(held.count - capacity) }
        }
    }

    /// The fetch held for `input`, if any, no longer held.
    func take(_ input: InputFile) -> InputPrefetch.Fetch? {
        lock.withLock {
            guard let index = held.firstIndex(where: { $0.uri == input.uri }) else { return nil }
            return held.remove(at: index).fetch
        }
    }

    /// Drops what is held for `attempt` (it will not run here, or it ran without taking it).
    public func discard(_ attempt: TaskAttemptID) {
        lock.withLock { held.removeAll { $0.attempt == attempt } }
    }

    /// The attempts whose input is held, and the fetch of one (for tests).
    var attempts: [TaskAttemptID] { lock.withLock { held.map(\.attempt) } }
    func fetch(of attempt: TaskAttemptID) -> InputPrefetch.Fetch? { lock.withLock { held.first { $0.attempt == attempt }?.fetch } }
}
