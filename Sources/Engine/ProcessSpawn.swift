import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// posix_spawn as Sextant's children need it: chosen descriptors as 0, 1 and 2, every other one
/// closed in the child at once (close_range, not one close per possible descriptor: Foundation's
/// `Process` closes them one by one, about 20 ms a spawn with a limit of 20,000 open files), default
/// signal dispositions and an empty mask (Sextant ignores SIGPIPE, SIGINT and SIGTERM itself, and
/// ignored signals would carry over the exec). The caller reaps the child (`waitpid`).
public enum ProcessSpawn {
    /// What one of the child's standard descriptors is.
    public enum Descriptor: Sendable {
        /// A file opened for the child.
        case open(path: String, flags: Int32, mode: mode_t)
        /// A copy of one of ours.
        case duplicate(Int32)
    }

    public struct Failure: Error, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
    }

    /// Starts `executable` with `arguments` (argv[0] included); a descriptor of 0...2 not in
    /// `descriptors` is inherited. `newProcessGroup` makes the child the leader of a group of its own.
    public static func spawn(executable: String, arguments: [String], environment: [String: String],
                             descriptors: [Int32: Descriptor], workingDirectory: String? = nil,
                             newProcessGroup: Bool = false) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (target, source) in descriptors.sorted(by: { $0.key < $1.key }) {
            switch source {
            case .open(let path, let flags, let mode): posix_spawn_file_actions_addopen(&actions, target, path, flags, mode)
            case .duplicate(let descriptor): posix_spawn_file_actions_adddup2(&actions, descriptor, target)
            }
        }
        // Nothing else of Sextant's leaks into the child: not an executor's sockets to its master,
        // a store's connections, another child's pipes.
        guard addCloseFrom(&actions, 3) == 0 else { throw Failure(reason: "cannot close inherited descriptors") }
        if let workingDirectory, addChdir(&actions, workingDirectory) != 0 {
            throw Failure(reason: "cannot use working directory \(workingDirectory)")
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigfillset(&defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK
        if newProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard status == 0 else { throw Failure(reason: String(cString: strerror(status))) }
        return pid
    }

    /// True once `pid` has exited (a zombie until reaped), without reaping it; true too once it is gone.
    public static func hasExited(_ pid: pid_t) -> Bool {
        var info = siginfo_t()
        let result = waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT)
        return result == 0 ? info._sifields._sigchld.si_pid == pid : errno != EINTR
    }

    /// `waitpid`, retried on EINTR: the wait status, or nil when `blocking` is false and it still
    /// runs (or it is not, or no longer, our child).
    public static func reap(_ pid: pid_t, blocking: Bool) -> Int32? {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, blocking ? 0 : WNOHANG)
            if result == pid { return status }
            if result < 0, errno == EINTR { continue }
            return nil
        }
    }

    /// A wait status in words: "exited with status 0", "died of signal 6 (SIGABRT)".
    public static func describe(waitStatus status: Int32) -> String {
        let signal = status & 0x7f
        guard signal != 0 else { return "exited with status \((status >> 8) & 0xff)" }
        let names: [Int32: String] = [SIGSEGV: "SIGSEGV", SIGABRT: "SIGABRT", SIGILL: "SIGILL", SIGBUS: "SIGBUS",
                                      SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGTRAP: "SIGTRAP", SIGTERM: "SIGTERM"]
        return "died of signal \(signal)" + (names[signal].map { " (\($0))" } ?? "")
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
}
