import ArgumentParser
import Engine
import Foundation
import Monitor
import Pipeline

/// `sextant run --master local[N]`: the driver and N task slots in this process.
enum LocalRun {
    static func run(_ spec: JobSpec, master: String, configuration: Configuration, logEvery: Int,
                    ui: UIOptions = UIOptions(), prestarted: PrestartedWorkers? = nil) throws {
        // On your own machine a pipe may run anything you could, unless your conf restricts it.
        PipePolicy.current = .local(configuration.values)
        let (engineSettings, isolation) = try LocalIsolation.start(master: master, configuration: configuration,
                                                                   prestarted: prestarted)
        defer { isolation.finish() }
        let backend = isolation.backend

        let driver = ExtractionDriver(spec: spec, engineSettings: engineSettings)
        let progress = ProgressReporter(total: spec.inputs.count, logEvery: logEvery)
        driver.onEntry = { entry in progress.record(succeeded: entry.outcome != .failed, sources: entry.rows ?? 0) }
        let monitoring: LocalMonitoring?
        do {
            monitoring = try LocalMonitoring(spec: spec, driver: driver, configuration: configuration, ui: ui)
        } catch {
            Console.error("\(error)")
            throw ExitCode(ExitStatus.unusable)
        }
        defer { monitoring?.stop() }
        let interrupt = InterruptHandler { driver.cancel() }
        defer { interrupt.remove() }
        // A cancelled task may still be stopping its program when the job returns: none may outlive us.
        defer { PipeOperator.killRunningPrograms() }

        let report: JobReport
        do {
            report = try driver.run(backend: backend)
        } catch {
            monitoring?.ended(status: "failed", message: "\(error)")
            Console.error("\(error)")
            throw ExitCode(ExitStatus.unusable)
        }
        print(report.summary)
        let interrupted = interrupt.fired
        monitoring?.ended(status: report.jobStatus().rawValue, message: report.summary)
        if ui.keep, let monitoring, monitoring.isServing, !interrupted {
            Console.info("the job has ended; the web UI stays up until Ctrl-C")
            monitoring.waitForInterrupt(interrupt)
        }
        try exit(for: report, interrupted: interrupted)
    }

    static func exit(for report: JobReport, interrupted: Bool) throws {
        if interrupted { throw ExitCode(ExitStatus.interrupted) }
        if report.status != .succeeded { throw ExitCode(ExitStatus.someFailed) }
    }
}

/// The backend of a local run: worker processes (crash isolation, the default) or threads of
/// this process (`sextant.local.isolation=false`).
final class LocalIsolation {
    let backend: ExecutorBackend
    private let workers: WorkerProcessBackend?
    private let processes: WorkerProcesses?

    init(slots: Int, isolated: Bool, configuration: Configuration, prestarted: PrestartedWorkers? = nil) throws {
        guard isolated else {
            backend = LocalBackend(registry: LocalOperators.registry(), slots: slots)
            workers = nil
            processes = nil
            return
        }
        let (processes, launched) = try prestarted?.take(slots: slots) ?? {
            let processes = try WorkerProcesses(configuration: configuration.values, forExecutor: false)
            return (processes, Result { try WorkerProcessBackend.prestart(slots: slots, launcher: processes.launcher) })
        }()
        let workers: WorkerProcessBackend
        do {
            workers = try WorkerProcessBackend(prestarted: launched.get())
        } catch {
            processes.finish()
            throw error
        }
        self.workers = workers
        self.processes = processes
        backend = workers
    }

    /// The slot count of a local master (`local[N]`: N slots; `local[*]`: `sextant.local.slots`,
    /// else one per core).
    static func slots(master: String, engineSettings: EngineSettings) throws -> Int {
        try LocalBackend.slots(forMaster: master) ?? engineSettings.localSlots ?? ProcessInfo.processInfo.activeProcessorCount
    }

    /// The engine settings and backend of a local master, with the workers `prestarted` if the
    /// run started them early. A failure to start workers is the unusable exit.
    static func start(master: String, configuration: Configuration,
                      prestarted: PrestartedWorkers? = nil) throws -> (EngineSettings, LocalIsolation) {
        // In-process slots (sextant.local.isolation=false) extract here: this run's conf sets SEP's limits.
        try ExtractionDriver.applyProcessSettings(configuration.values)
        var engineSettings = try EngineSettings(configuration)
        let slots = try Self.slots(master: master, engineSettings: engineSettings)
        engineSettings.localSlots = slots
        do {
            return (engineSettings, try LocalIsolation(slots: slots, isolated: engineSettings.localIsolation,
                                                       configuration: configuration, prestarted: prestarted))
        } catch {
            Console.error("cannot start the local workers: \(error)")
            throw ExitCode(ExitStatus.unusable)
        }
    }

    /// Stops the workers (if the driver has not) and says how many died on the way.
    func finish() {
        backend.stop()
        processes?.finish()
        if let deaths = workers?.deaths, deaths > 0 {
            Console.info("sextant: \(deaths) worker process\(deaths == 1 ? "" : "es") died during the job (their inputs were retried, then reported failed)")
        }
    }
}

/// A local run's worker processes, started before it lists its inputs and plans, so that their
/// start-up (loading the binary, a configuration frame, "ready") overlaps the driver's instead of
/// adding to it. A start error is kept for the moment the run would have started them, so a bad
/// input list is still reported first. Unused (a run that fails before its job), they are killed.
/// @unchecked: `lock` guards `launched`.
final class PrestartedWorkers: @unchecked Sendable {
    let slots: Int
    private let lock = NSLock()
    private var launched: (WorkerProcesses, Result<WorkerProcessBackend.Prestarted, Error>)?

    /// nil where there is nothing to start early: not a local master, threads, or a conf the
    /// run will refuse with its own message.
    init?(master: String, configuration: Configuration) {
        guard master.hasPrefix("local"), let settings = try? EngineSettings(configuration), settings.localIsolation,
              let slots = try? LocalIsolation.slots(master: master, engineSettings: settings),
              let processes = try? WorkerProcesses(configuration: configuration.values, forExecutor: false) else { return nil }
        self.slots = slots
        launched = (processes, Result { try WorkerProcessBackend.prestart(slots: slots, launcher: processes.launcher) })
    }

    /// The workers, once, if they were started for `slots` slots.
    func take(slots: Int) -> (WorkerProcesses, Result<WorkerProcessBackend.Prestarted, Error>)? {
        lock.lock(); defer { lock.unlock() }
        guard slots == self.slots, let taken = launched else { return nil }
        launched = nil
        return taken
    }

    /// Kills the workers if nobody took them.
    func discard() {
        guard let (processes, result) = take(slots: slots) else { return }
        if case .success(let workers) = result { workers.discard() }
        processes.finish()
    }
}

/// The web UI and event log of a local run, when asked for (`--ui`, `sextant.eventLog.enabled`).
final class LocalMonitoring {
    let monitor: Monitor
    let jobID: String
    private let web: WebServer?

    init?(spec: JobSpec, driver: ExtractionDriver, configuration: Configuration, ui: UIOptions) throws {
        var settings = try MonitorSettings(configuration)
        if let port = ui.port { settings.port = port }
        guard ui.enabled || settings.eventLogDirectory != nil else { return nil }
        monitor = try Monitor(settings: settings)
        jobID = spec.jobID
        JobMonitoring.attach(monitor, to: driver, spec: spec)
        monitor.setCancelAction(for: spec.jobID) { driver.cancel() }
        web = ui.enabled ? JobMonitoring.serve(monitor) : nil
    }

    var isServing: Bool { web != nil }

    func ended(status: String, message: String) {
        monitor.setCancelAction(for: jobID, nil)
        JobMonitoring.ended(monitor, jobID: jobID, status: status, message: message)
    }

    func waitForInterrupt(_ interrupt: InterruptHandler) {
        while !interrupt.fired { usleep(100_000) }
    }

    func stop() {
        web?.stop()
        monitor.close()
    }
}
