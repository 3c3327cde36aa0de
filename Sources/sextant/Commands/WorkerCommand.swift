import ArgumentParser
import Cluster
import Engine
import Foundation
import Pipeline

/// `sextant worker`: one task slot in its own process, started by `run --master local[N]` or by
/// an executor daemon (`--executor`), never by hand. Requests come on standard input, results go
/// to standard output.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Internal: a task process of `sextant run --master local[N]` or of an executor.",
        shouldDisplay: false)

    @Flag(help: .hidden) var executor = false

    func run() throws {
        Self.serve(forExecutor: executor)
    }

    /// `forExecutor` for the arguments after `worker` that a launcher passes (`WorkerProcesses`),
    /// nil for any others (ArgumentParser then parses them, errors and all). `Sextant.main` starts
    /// a worker with it and skips ArgumentParser, whose reflection over every command cost a
    /// worker's start about 4 ms of CPU, on the path of every local run (docs/BENCHMARKS.md).
    static func launchedAs(_ arguments: ArraySlice<String>) -> Bool? {
        guard arguments.first == configuration.commandName else { return nil }
        switch Array(arguments.dropFirst()) {
        case []: return false
        case ["--executor"]: return true
        default: return nil
        }
    }

    static func serve(forExecutor: Bool) -> Never {
        Console.bootstrapLogging(level: ProcessInfo.processInfo.environment[WorkerProcesses.logLevelVariable])
        // The input of the task a worker holds behind its running one arrives meanwhile (issue 12).
        let ahead = WorkerLoop.Ahead(fetch: { AheadInputs.shared.fetch($0) }, discard: { AheadInputs.shared.discard($0) })
        WorkerLoop.serve(configure: { settings in
            // What `run` or `executor` itself sets from its conf, so a worker behaves as its thread would.
            try ExtractionDriver.applyProcessSettings(settings)
            PipePolicy.current = forExecutor ? .executor(settings) : .local(settings)
            return TaskRunner(registry: forExecutor ? ExecutorOperators.registry(settings) : LocalOperators.registry())
        }, ahead: ahead, beforeExit: {
            PipeOperator.killRunningPrograms()  // the driver is done or gone: no program outlives us
        })
    }
}

/// The operators of a local run's tasks, on threads or in workers.
enum LocalOperators {
    static func registry() -> OperatorRegistry {
        let registry = OperatorRegistry()
        ExtractionDriver.registerOperators(in: registry)
        return registry
    }
}

/// The operators an executor daemon runs, on its threads or in its workers alike (register any
/// new executor operator here, from the executor's own conf, so both paths have it).
enum ExecutorOperators {
    static func registry(_ conf: [String: String]) -> OperatorRegistry {
        let registry = OperatorRegistry()
        ExtractionDriver.registerOperators(in: registry)
        return registry
    }
}

/// How a local run or an executor starts its workers: this same binary, `worker`, this
/// environment less the cluster secret, and the process's conf less its authentication keys
/// (sent over the pipe, never on a command line). The workers share one directory of
/// large-image slots, so `sextant.executor.largeImageSlots` bounds the process tree as it bounds
/// one process; `finish()` removes it.
final class WorkerProcesses {
    static let logLevelVariable = "SEXTANT_WORKER_LOG_LEVEL"

    let launcher: WorkerProcessBackend.Launcher
    private let locks: URL

    init(configuration: [String: String], forExecutor: Bool) throws {
        let locks = FileManager.default.temporaryDirectory.appendingPathComponent("sextant-slots-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: locks, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        self.locks = locks
        var environment = ProcessInfo.processInfo.environment
        // Tasks never need the cluster secret: it stays in the process it was given to.
        environment[ClusterSecret.environmentVariable] = nil
        // A crashing worker should die at once, in one line from the driver, not after a
        // multi-second backtrace per crash (set SWIFT_BACKTRACE yourself to get one).
        if environment["SWIFT_BACKTRACE"] == nil { environment["SWIFT_BACKTRACE"] = "enable=no" }
        if let logLevel = configuration[SchedulerKeys.logLevel.name] { environment[Self.logLevelVariable] = logLevel }
        environment[LargeImageLocks.environmentVariable] = locks.path
        let settings = configuration.filter { !$0.key.hasPrefix("sextant.authenticate.") }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        launcher = .init(executable: executable, arguments: [WorkerCommand.configuration.commandName ?? "worker"]
                             + (forExecutor ? ["--executor"] : []),
                         environment: environment, settings: settings)
    }

    func finish() {
        try? FileManager.default.removeItem(at: locks)
    }
}
