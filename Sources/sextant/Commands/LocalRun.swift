import ArgumentParser
import Engine
import Foundation
import Monitor
import Pipeline

/// `sextant run --master local[N]`: the driver and N task slots in this process.
enum LocalRun {
    static func run(_ spec: JobSpec, master: String, configuration: Configuration, logEvery: Int,
                    ui: UIOptions = UIOptions()) throws {
        // On your own machine a pipe may run anything you could, unless your conf restricts it.
        PipePolicy.current = .local(configuration.values)
        let (engineSettings, isolation) = try LocalIsolation.start(master: master, configuration: configuration)
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

    init(slots: Int, isolated: Bool, queuedTasksPerWorker: Int, configuration: Configuration) throws {
        guard isolated else {
            backend = LocalBackend(registry: LocalOperators.registry(), slots: slots)
            workers = nil
            processes = nil
            return
        }
        let processes = try WorkerProcesses(configuration: configuration.values, forExecutor: false)
        let workers: WorkerProcessBackend
        do {
            workers = try WorkerProcessBackend(slots: slots, queuedTasksPerWorker: queuedTasksPerWorker,
                                               launcher: processes.launcher)
        } catch {
            processes.finish()
            throw error
        }
        self.workers = workers
        self.processes = processes
        backend = workers
    }

    /// The engine settings and backend of a local master (`local[N]`: N slots; `local[*]`:
    /// `sextant.local.slots`, else one per core). A failure to start workers is the unusable exit.
    static func start(master: String, configuration: Configuration) throws -> (EngineSettings, LocalIsolation) {
        // In-process slots (sextant.local.isolation=false) extract here: this run's conf sets SEP's limits.
        try ExtractionDriver.applyProcessSettings(configuration.values)
        var engineSettings = try EngineSettings(configuration)
        let slots = try LocalBackend.slots(forMaster: master) ?? engineSettings.localSlots
            ?? ProcessInfo.processInfo.activeProcessorCount
        engineSettings.localSlots = slots
        do {
            return (engineSettings, try LocalIsolation(slots: slots, isolated: engineSettings.localIsolation,
                                                       queuedTasksPerWorker: engineSettings.localQueuedTasksPerWorker,
                                                       configuration: configuration))
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
