import Foundation

/// What a local run's driver sends its worker processes (see WorkerProcessBackend).
public enum WorkerRequest: Codable, Sendable {
    /// First, once: the driver's own configuration, for what a process sets from its conf (the
    /// pipe policy, SEP's and the large-image gate's limits). A pipe keeps it off command lines.
    case configure([String: String])
    /// A worker runs its tasks one at a time, in order: one sent while another runs waits (its
    /// input fetched meanwhile: `WorkerLoop.Ahead`) and starts when the running one ends.
    case run(TaskSpec, executor: ExecutorID)
    /// A waiting task is answered at once as failed ("cancelled before it started"); a running one is asked to stop.
    case cancel(TaskAttemptID)
    /// Waiting tasks taken back unstarted (a draining executor hands them to its master); answered by `withdrawn`.
    case withdraw([TaskAttemptID])
}

/// What a worker sends back: once ready (configured), then one result per task.
public enum WorkerReply: Codable, Sendable {
    case ready
    case finished(TaskResult)
    /// Of a `withdraw`'s tasks, those that had not started (the rest run and answer with `finished`).
    case withdrawn([TaskAttemptID])
}

/// How requests and replies travel: a tag byte, then the task (`run`, `finished`: Engine's binary
/// layout, `TaskBinaryCoding`: JSON was 40 % of an executor's CPU per task) or JSON (the rest).
/// Both ends are the same program (the worker is `sextant worker` of the daemon's own binary).
enum WorkerFrameBody {
    private static let json: UInt8 = 0, run: UInt8 = 1, finished: UInt8 = 2

    static func frame(_ request: WorkerRequest) throws -> [UInt8] {
        guard case .run(let spec, let executor) = request else { return try jsonFrame(request) }
        return frame(tag: run) { out in
            out.writeTaskString(executor)
            TaskBinaryCoding.write(spec, to: &out)
        }
    }

    static func frame(_ reply: WorkerReply) throws -> [UInt8] {
        guard case .finished(let result) = reply else { return try jsonFrame(reply) }
        return frame(tag: finished) { TaskBinaryCoding.write(result, to: &$0) }
    }

    private static func jsonFrame<T: Encodable>(_ value: T) throws -> [UInt8] {
        let body = try JSONEncoder().encode(value)
        return frame(tag: json) { $0.appendRaw(body) }
    }

    private static func frame(tag: UInt8, _ body: (inout TaskBytes) -> Void) -> [UInt8] {
        var out = PipeFrames.startFrame()
        out.writeTaskU8(tag)
        body(&out)
        return PipeFrames.finishFrame(out)
    }

    static func request(_ body: [UInt8]) throws -> WorkerRequest {
        var input = TaskBytes(reading: body, from: 1)
        switch body.first {
        case run?:
            let executor = try TaskBinaryCoding.readString(&input)
            return .run(try TaskBinaryCoding.readSpec(&input), executor: executor)
        case json?: return try JSONDecoder().decode(WorkerRequest.self, from: Data(body.dropFirst()))
        default: throw TaskCodingError("a request of kind \(body.first.map(String.init) ?? "none")")
        }
    }

    static func reply(_ body: [UInt8]) throws -> WorkerReply {
        var input = TaskBytes(reading: body, from: 1)
        switch body.first {
        case finished?: return .finished(try TaskBinaryCoding.readResult(&input))
        case json?: return try JSONDecoder().decode(WorkerReply.self, from: Data(body.dropFirst()))
        default: throw TaskCodingError("a reply of kind \(body.first.map(String.init) ?? "none")")
        }
    }
}

/// Length-prefixed frames over a pipe: a 4-byte big-endian length, then that many bytes.
/// Blocking writes on a file descriptor, one writer at a time (callers lock); reads go through `PipeReader`.
struct PipeFrames {
    /// A frame claiming more is garbage (a worker that went wrong): the reader stops.
    static let maxFrameBytes = 1 << 30

    let descriptor: Int32

    /// A frame's bytes so far: room for its length, filled in by `finishFrame`, so it goes in one write.
    static func startFrame() -> TaskBytes {
        var out = TaskBytes()
        out.writeTaskU32(0)
        return out
    }

    static func finishFrame(_ out: TaskBytes) -> [UInt8] {
        var bytes = out.bytes
        let length = UInt32(bytes.count - 4)
        for index in 0..<4 { bytes[index] = UInt8(truncatingIfNeeded: length >> (24 - 8 * index)) }
        return bytes
    }

    /// Waits up to `timeout` seconds for something to read (or end of file); false on timeout.
    func waitReadable(timeout: TimeInterval) -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let deadline = Date(timeIntervalSinceNow: timeout)
        while true {
            let left = Int32(max(0, deadline.timeIntervalSinceNow) * 1000)
            let ready = poll(&entry, 1, left)
            if ready > 0 { return true }
            if ready == 0 || errno != EINTR { return false }
        }
    }

    /// Writes a whole frame (`finishFrame`'s). False when the other end is gone (EPIPE; SIGPIPE must be ignored).
    @discardableResult
    func write(_ frame: [UInt8]) -> Bool {
        frame.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0, errno == EINTR { continue }
                guard written > 0 else { return false }
                offset += written
            }
            return true
        }
    }
}

/// Frames read through a buffer: one `read` brings in whatever the writer has written (several
/// frames when results or tasks come back to back), where unbuffered reading took two per frame.
/// One reader per descriptor, on one thread.
final class PipeReader {
    let descriptor: Int32
    private var buffer: [UInt8]
    private var start = 0, end = 0

    init(descriptor: Int32, capacity: Int = 64 << 10) {
        self.descriptor = descriptor
        buffer = [UInt8](repeating: 0, count: capacity)
    }

    /// The next frame's body, or nil at end of file, on a read error or on a bad length.
    func read() -> [UInt8]? {
        guard fill(4) else { return nil }
        let length = buffer[start..<start + 4].reduce(0) { $0 << 8 | Int($1) }
        guard length <= PipeFrames.maxFrameBytes, fill(4 + length) else { return nil }
        let body = Array(buffer[start + 4..<start + 4 + length])
        start += 4 + length
        return body
    }

    /// Waits up to `timeout` seconds for a frame to start arriving (or end of file); false on timeout.
    func waitReadable(timeout: TimeInterval) -> Bool {
        end > start || PipeFrames(descriptor: descriptor).waitReadable(timeout: timeout)
    }

    /// Makes `count` bytes available from `start`, reading as much as the pipe holds; false at end of file.
    private func fill(_ count: Int) -> Bool {
        while end - start < count {
            if start > 0 {  // what is left goes to the front
                buffer.withUnsafeMutableBufferPointer { bytes in
                    _ = memmove(bytes.baseAddress!, bytes.baseAddress! + start, end - start)
                }
                end -= start
                start = 0
            }
            if buffer.count < count { buffer += [UInt8](repeating: 0, count: count - buffer.count) }
            let got = buffer.withUnsafeMutableBufferPointer { bytes in
                Foundation.read(descriptor, bytes.baseAddress! + end, bytes.count - end)
            }
            if got < 0, errno == EINTR { continue }
            guard got > 0 else { return false }
            end += got
        }
        return true
    }
}

/// The worker's side: runs the tasks its driver sends on standard input and answers on the
/// standard output it was started with. Anything else the process prints goes to standard
/// error, so a stray print cannot corrupt a frame.
public enum WorkerLoop {
    /// What a worker does for a task it holds while another runs: fetch its input ahead, and drop
    /// that fetch if the task is cancelled or withdrawn unstarted (or when it has run).
    public struct Ahead: Sendable {
        public var fetch: @Sendable (TaskSpec) -> Void
        public var discard: @Sendable (TaskAttemptID) -> Void

        public init(fetch: @escaping @Sendable (TaskSpec) -> Void, discard: @escaping @Sendable (TaskAttemptID) -> Void) {
            self.fetch = fetch
            self.discard = discard
        }

        public static let none = Ahead(fetch: { _ in }, discard: { _ in })
    }

    /// Serves until standard input closes (the driver is done or gone), then exits.
    /// `configure` applies the driver's configuration and returns the runner of the tasks (its
    /// operators may depend on that configuration); if it throws, the worker exits.
    /// `beforeExit` runs as the worker leaves with tasks possibly still running (it kills the
    /// programs of `--pipe` tasks, which live in process groups of their own).
    public static func serve(configure: ([String: String]) throws -> TaskRunner, ahead: Ahead = .none,
                             beforeExit: () -> Void = {}) -> Never {
        // Ctrl-C reaches the whole process group, and SIGTERM the whole cgroup (systemd, Slurm's
        // scancel): the driver or daemon stops cleanly (an executor drains) and closes our input.
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let results = dup(STDOUT_FILENO)
        dup2(STDERR_FILENO, STDOUT_FILENO)
        let output = PipeFrames(descriptor: results)
        let input = PipeReader(descriptor: STDIN_FILENO)
        let lock = NSLock()
        let reply: @Sendable (WorkerReply) -> Void = { reply in
            guard let body = try? WorkerFrameBody.frame(reply) else { return }
            lock.lock(); output.write(body); lock.unlock()
        }
        // One at a time, in the order sent; `queue` says which were sent and not yet started, so a
        // cancel or withdraw finds them.
        let tasks = DispatchQueue(label: "sextant.worker.tasks", qos: .userInitiated)
        let queue = WorkerQueue()
        var runner: TaskRunner?
        serving: while let frame = input.read() {
            guard let request = try? WorkerFrameBody.request(frame) else { break }
            switch request {
            case .configure(let settings):
                do {
                    runner = try configure(settings)
                } catch {
                    FileHandle.standardError.write(Data("sextant worker: \(error)\n".utf8))
                    beforeExit()
                    exit(2)
                }
                reply(.ready)
            case .run(let spec, let executor):
                guard let runner else { break serving }  // never configured: a driver that went wrong
                if queue.add(spec.id) { ahead.fetch(spec) }  // the first of a queue fetches its own (InputPrefetch)
                tasks.async {
                    guard queue.start(spec.id) else { return }  // cancelled or withdrawn: already answered
                    let result = runner.run(spec, executor: executor)
                    ahead.discard(spec.id)
                    queue.end()
                    reply(.finished(result))
                }
            case .cancel(let id):
                guard queue.take([id]) == [id] else {
                    runner?.cancel(id)
                    continue
                }
                ahead.discard(id)
                reply(.finished(TaskResult(id: id, executor: "", outcome: .failure(message: "cancelled before it started"),
                                           duration: 0)))
            case .withdraw(let ids):
                let unstarted = queue.take(ids)
                unstarted.forEach(ahead.discard)
                reply(.withdrawn(unstarted))
            }
        }
        beforeExit()
        exit(0)
    }
}

/// A worker's tasks sent and not yet finished: which have not started, and how many are unfinished.
/// @unchecked: `lock` guards both.
private final class WorkerQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var waiting: Set<TaskAttemptID> = []
    private var unfinished = 0

    /// Records a task sent; true when it waits behind another.
    func add(_ id: TaskAttemptID) -> Bool {
        lock.withLock {
            waiting.insert(id)
            unfinished += 1
            return unfinished > 1
        }
    }

    /// Its turn: true when it is still to run (not cancelled or withdrawn meanwhile).
    func start(_ id: TaskAttemptID) -> Bool {
        lock.withLock { waiting.remove(id) != nil }
    }

    func end() {
        lock.withLock { unfinished -= 1 }
    }

    /// Of `ids`, those not started, which now never will.
    func take(_ ids: [TaskAttemptID]) -> [TaskAttemptID] {
        lock.withLock {
            let taken = ids.filter { waiting.remove($0) != nil }
            unfinished -= taken.count
            return taken
        }
    }
}
