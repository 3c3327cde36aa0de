import ArgumentParser
import Engine
import Foundation
import Pipeline

/// `sextant worker`: one task slot of a local run in its own process (started by `run --master
/// local[N]`, never by hand). Requests come on standard input, results go to standard output.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Internal: a task process of `sextant run --master local[N]`.",
        shouldDisplay: false)

    func run() throws {
        Console.bootstrapLogging(level: ProcessInfo.processInfo.environment[LocalWorkers.logLevelVariable])
        let registry = OperatorRegistry()
        ExtractionDriver.registerOperators(in: registry)
        WorkerLoop.serve(runner: TaskRunner(registry: registry)) { settings in
            // What `run` itself sets from the user's conf, so a worker behaves as its thread would.
            try ExtractionDriver.applyProcessSettings(settings)
            PipePolicy.current = .local(settings)
        } beforeExit: {
            PipeOperator.killRunningPrograms()  // the driver is done or gone: no program outlives us
        }
    }
}

/// How a local run starts its workers: this same binary, `worker`, this environment.
enum LocalWorkers {
    static let logLevelVariable = "SEXTANT_WORKER_LOG_LEVEL"

    static func launcher(configuration: [String: String], largeImageLocks: URL) -> WorkerProcessBackend.Launcher {
        let logLevel = configuration[SchedulerKeys.logLevel.name]
        var environment = ProcessInfo.processInfo.environment
        // A crashing worker should die at once, in one line from the driver, not after a
        // multi-second backtrace per crash (set SWIFT_BACKTRACE yourself to get one).
        if environment["SWIFT_BACKTRACE"] == nil { environment["SWIFT_BACKTRACE"] = "enable=no" }
        if let logLevel { environment[logLevelVariable] = logLevel }
        environment[LargeImageLocks.environmentVariable] = largeImageLocks.path
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return .init(executable: executable, arguments: ["worker"], environment: environment, settings: configuration)
    }
}
