import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One program started with posix_spawn in a process group of its own, so a timeout or a
/// cancellation can kill it and everything it started (a shell's children, a script's
/// subprocesses) at once, and a terminal's Ctrl-C reaches Sextant, which decides.
final class ChildProcess {
    enum Ending: Equatable {
        case exited(Int32)
        case signaled(Int32)
        /// Killed after `timeout` seconds, by `signal` (SIGTERM, or SIGKILL when it ignored that).
        case timedOut(TimeInterval, signal: Int32)
        case cancelled
    }

    let pid: pid_t

    /// Starts `executable` with `arguments` (argv[0] included), stdin from /dev/null and
    /// stdout and stderr appended to the given files.
    init(executable: String, arguments: [String], environment: [String: String], workingDirectory: String,
         stdout: String, stderr: String) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        // Nothing else of Sextant's leaks into the user's program: not the executor's sockets
        // to its master, not a store's connections, not another child's pipes.
        guard Self.addCloseFrom(&actions, 3) == 0 else {
            throw PipeError.spawnFailed(program: executable, reason: "cannot close inherited descriptors")
        }
        guard Self.addChdir(&actions, workingDirectory) == 0 else {
            throw PipeError.spawnFailed(program: executable, reason: "cannot use working directory \(workingDirectory)")
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A new group led by the child; default dispositions and an empty mask, since Sextant
        // ignores SIGINT/SIGTERM itself (ignored signals would otherwise carry over the exec).
        var defaults = sigset_t()
        sigfillset(&defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let status = ChildProcess.registry.spawn {
            let status = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
            return (status, pid)
        }
        guard status == 0 else {
            throw PipeError.spawnFailed(program: executable, reason: String(cString: strerror(status)))
        }
        self.pid = pid
    }

    /// Waits for the program to end, killing its whole group when `timeout` (seconds, 0 for
    /// none) passes or `isCancelled` turns true. Whatever is left of the group afterwards
    /// (a background grandchild) is killed too, so nothing outlives the input.
    func wait(timeout: TimeInterval, isCancelled: () -> Bool) -> Ending {
        let started = Date()
        var pause: useconds_t = 1_000
        defer { ChildProcess.registry.remove(pid) }
        while true {
            if hasEnded() {
                // The leader is a zombie until reaped, so its group id cannot be reused yet.
                kill(-pid, SIGKILL)
                return Self.ending(reap(blocking: true) ?? 0)
            }
            if isCancelled() {
                _ = terminate()
                return .cancelled
            }
            if timeout > 0, Date().timeIntervalSince(started) >= timeout {
                let status = terminate()
                return .timedOut(timeout, signal: status & 0x7f == 0 ? SIGTERM : status & 0x7f)
            }
            usleep(pause)
            pause = min(pause * 2, 10_000)  // a quick program is noticed within ~10 ms, at 100 wake-ups a second at most
        }
    }

    /// SIGTERM to the group, then SIGKILL to what is left of it after a second at most.
    /// Returns the leader's wait status.
    private func terminate() -> Int32 {
        kill(-pid, SIGTERM)
        let deadline = Date().addingTimeInterval(1)
        while Date() < deadline, !hasEnded() { usleep(10_000) }
        kill(-pid, SIGKILL)
        return reap(blocking: true) ?? 0
    }

    /// True once the leader has exited, without reaping it.
    private func hasEnded() -> Bool {
        var info = siginfo_t()
        let result = waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT)
        return result == 0 ? info._sifields._sigchld.si_pid == pid : errno != EINTR
    }

    private func reap(blocking: Bool) -> Int32? {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, blocking ? 0 : WNOHANG)
            if result == pid { return status }
            if result < 0, errno == EINTR { continue }
            return nil
        }
    }

    private static func ending(_ status: Int32) -> Ending {
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
    }

    /// glibc's posix_spawn_file_actions_addchdir_np (2.29+), which Swift's Glibc module does not export.
    private static func addChdir(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ path: String) -> Int32 {
        typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np") else {
            return ENOSYS
        }
        return unsafeBitCast(symbol, to: AddChdir.self)(actions, path)
    }

    /// glibc's posix_spawn_file_actions_addclosefrom_np (2.34+), likewise not exported.
    private static func addCloseFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ lowest: Int32) -> Int32 {
        typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
            return ENOSYS
        }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)(actions, lowest)
    }

    static let registry = LiveGroups()

    /// Kills every program a pipe started in this process that is still running (the process
    /// is about to exit at once: a second Ctrl-C, an executor told to stop).
    static func terminateAll() { registry.killAll() }
}

/// The process groups of running pipes, so an exit at once can leave no orphans.
/// @unchecked: `lock` guards `groups` and `closed`.
final class LiveGroups: @unchecked Sendable {
    private let lock = NSLock()
    private var groups: Set<pid_t> = []
    private var closed = false

    /// Runs `spawn` and records the group it made, unless the process is already killing
    /// everything (then refuses with ECANCELED). Under the lock, so `killAll` misses none.
    func spawn(_ body: () -> (status: Int32, pid: pid_t)) -> Int32 {
        lock.lock(); defer { lock.unlock() }
        guard !closed else { return ECANCELED }
        let (status, pid) = body()
        if status == 0 { groups.insert(pid) }
        return status
    }

    func remove(_ pid: pid_t) { lock.withLock { _ = groups.remove(pid) } }

    func killAll() {
        lock.withLock {
            closed = true
            for group in groups { kill(-group, SIGKILL) }
        }
    }
}
