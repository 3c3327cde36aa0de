import Engine
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
        // A new group led by the child, so a timeout kills everything it started.
        var spawned: pid_t = 0
        var failure: String?
        let status = ChildProcess.registry.spawn {
            do {
                spawned = try ProcessSpawn.spawn(
                    executable: executable, arguments: arguments, environment: environment,
                    descriptors: [0: .open(path: "/dev/null", flags: O_RDONLY, mode: 0),
                                  1: .open(path: stdout, flags: O_WRONLY | O_CREAT | O_APPEND, mode: 0o600),
                                  2: .open(path: stderr, flags: O_WRONLY | O_CREAT | O_APPEND, mode: 0o600)],
                    workingDirectory: workingDirectory, newProcessGroup: true)
                return (0, spawned)
            } catch {
                failure = "\(error)"
                return (EINVAL, 0)
            }
        }
        guard status == 0 else {
            throw PipeError.spawnFailed(program: executable, reason: failure ?? String(cString: strerror(status)))
        }
        pid = spawned
    }

    /// Waits for the program to end, killing its whole group when `timeout` (seconds, 0 for
    /// none) passes or `isCancelled` turns true. Whatever is left of the group afterwards
    /// (a background grandchild) is killed too, so nothing outlives the input.
    func wait(timeout: TimeInterval, isCancelled: () -> Bool) -> Ending {
        let started = Date()
        var pause: useconds_t = 1_000
        defer { ChildProcess.registry.remove(pid) }
        while true {
            if ProcessSpawn.hasExited(pid) {
                // The leader is a zombie until reaped, so its group id cannot be reused yet.
                kill(-pid, SIGKILL)
                return Self.ending(ProcessSpawn.reap(pid, blocking: true) ?? 0)
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
        while Date() < deadline, !ProcessSpawn.hasExited(pid) { usleep(10_000) }
        kill(-pid, SIGKILL)
        return ProcessSpawn.reap(pid, blocking: true) ?? 0
    }

    private static func ending(_ status: Int32) -> Ending {
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
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
