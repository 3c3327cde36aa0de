import Foundation
import Logging

/// local[N] with crash isolation: N worker processes of one slot each, fed over pipes (no
/// listener, nothing to authenticate). A native crash in a task (SIGSEGV in a C library, an
/// abort) takes down only its worker: the scheduler hears an executor loss, retries the task up
/// to `sextant.task.maxFailures` times and then reports it failed, and a fresh worker takes the
/// dead one's place. One slot per worker means an innocent task never shares a process with a
/// crashing one, so its attempts are never spent by another's crash.
/// @unchecked: `lock` guards `events`, `workers`, `spawned`, `died` and `stopped`.
public final class WorkerProcessBackend: ExecutorBackend, @unchecked Sendable {
    /// How to start a worker: a program that calls `WorkerLoop.serve` (`sextant worker`).
    public struct Launcher: Sendable {
        public var executable: URL
        public var arguments: [String]
        public var environment: [String: String]
        /// Sent to each worker first (`WorkerRequest.configure`).
        public var settings: [String: String]

        public init(executable: URL, arguments: [String], environment: [String: String], settings: [String: String] = [:]) {
            self.executable = executable
            self.arguments = arguments
            self.environment = environment
            self.settings = settings
        }
    }

    public let slots: Int
    /// Tasks a worker is offered beyond the one it runs (`ExecutorInfo.queuedTasks`); each waits in the worker.
    public let queuedTasksPerWorker: Int
    /// The workers are this backend's scheduler's alone: at a job's tail it may move what one holds to an idle one.
    public var rebalancesQueuedAttempts: Bool { queuedTasksPerWorker > 0 }
    /// A worker writes each result before it starts its next task, and the pipe keeps it past a crash.
    public var observesQueuedStarts: Bool { true }
    private let launcher: Launcher
    private let logger: Logger
    private let lock = NSLock()
    private var events: BackendEvents?
    private var workers: [ExecutorID: Worker] = [:]
    private var spawned = 0
    private var died = 0
    private var stopped = false

    /// Starts the `slots` workers now, so a worker that cannot start is an error before the job.
    public init(slots: Int, queuedTasksPerWorker: Int = 0, launcher: Launcher,
                logger: Logger = Logger(label: "sextant.engine.workers")) throws {
        self.slots = max(1, slots)
        self.queuedTasksPerWorker = max(0, queuedTasksPerWorker)
        self.launcher = launcher
        self.logger = logger
        // A write to a dead worker's pipe must fail with EPIPE, not kill the driver.
        signal(SIGPIPE, SIG_IGN)
        // Started together, then each waits to say it is ready: start-up costs one worker's, not N.
        let started = try (0..<self.slots).map { _ in try launchWorker() }
        do {
            for worker in started { try worker.awaitReady(timeout: Self.startTimeout) }
        } catch {
            for worker in started { worker.kill() }
            throw error
        }
        for worker in started { serve(worker) }
    }

    /// How long a new worker has to start and apply the configuration.
    static let startTimeout: TimeInterval = 60

    /// Worker processes that died while serving (crashed or were killed), not counting stop().
    public var deaths: Int {
        lock.lock(); defer { lock.unlock() }
        return died
    }

    public func start(events: BackendEvents) {
        lock.lock()
        self.events = events
        let infos = workers.values.map { info(of: $0) }.sorted { $0.id < $1.id }
        lock.unlock()
        for info in infos { events.executorAdded(info) }
    }

    public func launch(_ task: TaskSpec, on executor: ExecutorID) {
        send(.run(task, executor: executor), to: executor)
    }

    /// Runs `task` on `worker`, its operators seeing `executor` as theirs (an executor daemon's
    /// own id, when the daemon's tasks run in workers: `WorkerProcessRunner`).
    public func launch(_ task: TaskSpec, on worker: ExecutorID, as executor: ExecutorID) {
        send(.run(task, executor: executor), to: worker)
    }

    public func cancel(_ id: TaskAttemptID, on executor: ExecutorID) {
        send(.cancel(id), to: executor)
    }

    /// Asks `worker` to give back those of `ids` it has not started; its answer goes to `withdrawn`.
    public func withdraw(_ ids: [TaskAttemptID], on worker: ExecutorID) {
        send(.withdraw(ids), to: worker)
    }

    /// Hears a worker's answer to `withdraw`: the tasks it gave back unstarted. Set before tasks are sent;
    /// when nil (local mode), the answer goes to the scheduler as `BackendEvents.tasksReturned`.
    public var withdrawn: (@Sendable (ExecutorID, [TaskAttemptID]) -> Void)?

    /// Closes every worker's input (it exits when it has read all), killing those that linger.
    public func stop() {
        lock.lock()
        stopped = true
        events = nil
        let all = Array(workers.values)
        workers = [:]
        lock.unlock()
        for worker in all { worker.closeInput() }
        // A worker that read its last request exits, which ends its output: its reader hears that at
        // once; then that reader reaps it (`waitpid`), so its CPU counts as this process's
        // children's and none outlives us. Only one that lingers past the deadline is killed.
        let deadline = DispatchTime.now() + 2
        for worker in all where !(worker.awaitOutputEnd(until: deadline) && worker.awaitExit(until: deadline)) {
            worker.signalKill()
        }
    }

    // MARK: Workers

    private func info(of worker: Worker) -> ExecutorInfo {
        ExecutorInfo(id: worker.id, host: ProcessInfo.processInfo.hostName, cores: 1,
                     queuedTasks: queuedTasksPerWorker > 0 ? queuedTasksPerWorker : nil)
    }

    private func send(_ request: WorkerRequest, to executor: ExecutorID) {
        lock.lock()
        let worker = workers[executor]
        lock.unlock()
        // A worker that is gone has its loss on the way; the scheduler reschedules its tasks.
        guard let worker, let body = try? WorkerFrameBody.frame(request) else { return }
        worker.send(body)
    }

    /// Starts a worker process and sends it the configuration; it is not serving yet.
    private func launchWorker() throws -> Worker {
        lock.lock()
        spawned += 1
        let id: ExecutorID = "worker-\(spawned)"
        lock.unlock()
        let worker = try Worker(id: id, launcher: launcher)
        if let body = try? WorkerFrameBody.frame(WorkerRequest.configure(launcher.settings)) { worker.send(body) }
        return worker
    }

    /// Makes a ready worker one the scheduler may use, and starts reading its results.
    private func serve(_ worker: Worker) {
        lock.lock()
        workers[worker.id] = worker
        lock.unlock()
        let thread = Thread { [weak self] in self?.readResults(of: worker) }
        thread.name = "sextant-\(worker.id)-results"
        thread.start()
    }

    /// Delivers the worker's results until its output ends, then reports it lost and replaces it.
    private func readResults(of worker: Worker) {
        let frames = worker.reader
        reading: while let frame = frames.read() {
            let reply = try? WorkerFrameBody.reply(frame)
            lock.lock()
            let events = workers[worker.id] == nil ? nil : self.events
            lock.unlock()
            switch reply {
            case .finished(var result)?:
                result.executor = worker.id
                events?.taskFinished(result)
            case .withdrawn(let ids)?:
                // An executor daemon's runner hears the answer itself; local mode's scheduler hears it as a return.
                if let withdrawn {
                    if events != nil { withdrawn(worker.id, ids) }
                } else {
                    events?.tasksReturned(ids, by: worker.id)
                }
            default:
                logger.error("worker \(worker.id) sent a frame that is not a result; stopping it")
                break reading
            }
        }
        worker.noteOutputEnded()
        worker.reapAfterOutputEnded()
        worker.closeAll()
        lock.lock()
        let serving = workers.removeValue(forKey: worker.id) != nil && !stopped
        if serving { died += 1 }
        let events = serving ? self.events : nil
        lock.unlock()
        guard serving else { return }
        let reason = "worker process \(worker.pid) \(worker.exitDescription)"
        logger.warning("\(worker.id) lost: \(reason)")
        events?.executorLost(worker.id, reason: reason)
        replace(afterLosing: worker.id)
    }

    private func replace(afterLosing id: ExecutorID) {
        for attempt in 1...3 {
            do {
                let worker = try launchWorker()
                do {
                    try worker.awaitReady(timeout: Self.startTimeout)
                } catch {
                    worker.kill()
                    throw error
                }
                serve(worker)
                lock.lock()
                let events = stopped ? nil : self.events
                lock.unlock()
                events?.executorAdded(info(of: worker))
                return
            } catch {
                logger.error("cannot start a worker to replace \(id) (try \(attempt) of 3): \(error)")
                usleep(200_000)
            }
        }
    }
}

/// One worker process and the parent's ends of its two pipes. Spawned with `ProcessSpawn` and
/// reaped here with `waitpid`, not through Foundation's `Process` (which closes every possible
/// descriptor in the child one by one, and notices an exit only on its own SIGCHLD thread).
/// @unchecked: `lock` guards `inputOpen`, `outputOpen` and `waitStatus`.
private final class Worker: @unchecked Sendable {
    let id: ExecutorID
    let pid: pid_t
    /// Where requests go (the worker's standard input).
    let input: Int32
    /// Where results come from (the worker's original standard output), and its one reader.
    let output: Int32
    let reader: PipeReader
    private let lock = NSLock()
    private var inputOpen = true
    private var outputOpen = true
    private var waitStatus: Int32?
    private let outputEnded = DispatchSemaphore(value: 0)
    private let exited = DispatchSemaphore(value: 0)

    init(id: ExecutorID, launcher: WorkerProcessBackend.Launcher) throws {
        self.id = id
        // Close-on-exec everywhere, so no other child inherits these ends and a worker's death
        // always reaches us as end of file; the worker gets its two ends as fds 0 and 1. (pipe2 is
        // not exported to Swift: pipe, then fcntl. A spawn in that window cannot keep them either:
        // ProcessSpawn closes every descriptor above 2 in its child, as Foundation's Process does.)
        var toWorker: [Int32] = [0, 0], fromWorker: [Int32] = [0, 0]
        guard pipe(&toWorker) == 0 else { throw WorkerStartError(errno: errno) }
        guard pipe(&fromWorker) == 0 else {
            close(toWorker[0]); close(toWorker[1])
            throw WorkerStartError(errno: errno)
        }
        for descriptor in toWorker + fromWorker { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        defer { close(toWorker[0]); close(fromWorker[1]) }
        do {
            pid = try ProcessSpawn.spawn(executable: launcher.executable.path,
                                         arguments: [launcher.executable.path] + launcher.arguments,
                                         environment: launcher.environment,
                                         descriptors: [0: .duplicate(toWorker[0]), 1: .duplicate(fromWorker[1])])
        } catch {
            close(toWorker[1]); close(fromWorker[0])
            throw WorkerStartError(reason: "cannot start a worker process (\(launcher.executable.path)): \(error)")
        }
        input = toWorker[1]
        output = fromWorker[0]
        reader = PipeReader(descriptor: fromWorker[0])
    }

    /// Waits for the worker's ready frame; throws why it never came (it exited, or timed out).
    func awaitReady(timeout: TimeInterval) throws {
        let frames = reader
        if frames.waitReadable(timeout: timeout), let frame = frames.read(),
           case .ready? = try? WorkerFrameBody.reply(frame) {
            return
        }
        kill()
        throw WorkerStartError(reason: "worker process \(pid) \(exitDescription) before it was ready")
    }

    /// Kills the process and reaps it (its pipes closed). Only where no reader thread reaps it.
    func kill() {
        if !hasExited { Foundation.kill(pid, SIGKILL) }
        reap()
        closeAll()
    }

    /// After its output ended: the worker is exiting (or closed its output and lingers, which a
    /// short grace ends with SIGKILL). Returns once it is reaped.
    func reapAfterOutputEnded() {
        let deadline = DispatchTime.now() + 0.5
        while !hasExited && DispatchTime.now() < deadline { usleep(200) }
        if !hasExited { Foundation.kill(pid, SIGKILL) }
        reap()
    }

    /// True once the process has exited (a zombie until reaped), without reaping it.
    private var hasExited: Bool { lock.withLock({ waitStatus != nil }) || ProcessSpawn.hasExited(pid) }

    /// Waits for it (blocking); records the status and tells `awaitExit`.
    private func reap() {
        guard lock.withLock({ waitStatus == nil }) else { return }
        let status = ProcessSpawn.reap(pid, blocking: true) ?? 0
        lock.withLock { waitStatus = status }
        exited.signal()
    }

    /// True once it was reaped, false if `deadline` came first.
    func awaitExit(until deadline: DispatchTime) -> Bool {
        if lock.withLock({ waitStatus != nil }) { return true }
        guard exited.wait(timeout: deadline) == .success else { return false }
        exited.signal()
        return true
    }

    /// Ends it now (SIGKILL); its reader thread reaps it.
    func signalKill() { if !hasExited { Foundation.kill(pid, SIGKILL) } }

    func send(_ body: [UInt8]) {
        lock.lock(); defer { lock.unlock() }
        guard inputOpen else { return }
        PipeFrames(descriptor: input).write(body)
    }

    /// Its reader saw the end of its output (it exited, or closed it).
    func noteOutputEnded() { outputEnded.signal() }

    /// True once its output ended, false if `deadline` came first.
    func awaitOutputEnd(until deadline: DispatchTime) -> Bool { outputEnded.wait(timeout: deadline) == .success }

    func closeInput() {
        lock.lock(); defer { lock.unlock() }
        if inputOpen { close(input); inputOpen = false }
    }

    func closeAll() {
        closeInput()
        lock.lock(); defer { lock.unlock() }
        if outputOpen { close(output); outputOpen = false }
    }

    var exitDescription: String {
        lock.withLock { waitStatus }.map(ProcessSpawn.describe(waitStatus:)) ?? "is still running"
    }
}

struct WorkerStartError: Error, CustomStringConvertible {
    var reason: String
    init(reason: String) { self.reason = reason }
    init(errno: Int32) { reason = "cannot make a pipe for a worker: \(String(cString: strerror(errno)))" }
    var description: String { reason }
}
