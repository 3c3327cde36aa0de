import ArgumentParser
import Cluster
import Engine
import Foundation
import Monitor
import Pipeline

struct MasterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "master",
        abstract: "Run the cluster master: executors register with it, clients submit jobs to it.")

    @Option(help: "Address to listen on (default 0.0.0.0, which needs a secret; conf sextant.master.host).")
    var host: String?
    @Option(help: "Port to listen on (default 7077; conf sextant.master.port).")
    var port: Int?
    @Option(help: "Directory for the job history (default ~/.sextant/master-PORT; conf sextant.master.historyDir).")
    var historyDir: String?
    @OptionGroup(title: "Configuration") var conf: ConfOptions

    func run() throws {
        let c = try conf.configuration(flags: ["sextant.master.host": host, "sextant.master.port": port.map(String.init),
                                               "sextant.master.historyDir": historyDir])
        Console.bootstrapLogging(level: c["sextant.log.level"])
        let settings = try ClusterConfiguration.master(c)
        let host = MasterMonitorHost()
        let monitor: Monitor
        do {
            monitor = try Monitor(settings: try MonitorSettings(c), host: host)
        } catch {
            Console.error("\(error)")
            throw ExitCode(ExitStatus.unusable)
        }
        let monitorSettings = monitor.settings
        // Past jobs' pages come back from their event logs; a big history must not delay the master.
        DispatchQueue.global().async {
            let loaded = monitor.loadHistory()
            if loaded > 0 { Console.info("sextant master: \(loaded) past jobs loaded from the event logs") }
        }
        let server = MasterServer(settings: settings, buildID: ClusterConfiguration.buildID,
                                  jobHandler: PipelineJobHandler(configuration: c, monitor: monitor))
        let uploads = try c.value(of: ClusterKeys.uploadDirectory).map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) }
            ?? settings.historyDirectory?.appendingPathComponent("uploads")
        host.attach(server, monitor: monitor, configuration: c, uploadDirectory: uploads)
        if let url = try c.value(of: ClusterKeys.webhook), !url.isEmpty {
            let webhook = try JobWebhook(url)
            server.onJobFinished = { webhook.post($0) }
        }
        do {
            try server.start()
        } catch let error as ClusterError {
            Console.error("\(error)")
            throw ExitCode(ExitStatus.unusable)
        }
        AccessWarning.warnIfUnrestricted(c.values, process: "master")
        Console.info("sextant master listening on \(settings.host):\(server.port ?? settings.port), build \(ClusterConfiguration.buildID)"
                     + (settings.network.secret == nil ? " (no authentication: loopback only)" : " (authentication on)"))
        let web = monitorSettings.uiEnabled ? JobMonitoring.serve(monitor) : nil
        let stop = InterruptHandler(message: "sextant master: stopping") {
            web?.stop()
            server.stop()
            monitor.close()
        }
        defer { stop.remove() }
        try server.waitUntilClosed()
    }
}

struct ExecutorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "executor",
        abstract: "Run an executor daemon: join a master and run its tasks, reconnecting if it restarts.")

    @Option(help: "The master, sextant://HOST:PORT (conf sextant.master).")
    var master: String?
    @Option(help: "Tasks run at once (default: all cores; conf sextant.executor.cores).")
    var cores: Int?
    @Option(help: "Scratch directory for spooled inputs (default: $TMPDIR).")
    var workDir: String?
    @Option(help: "Host name to report (default: this machine's name).")
    var hostName: String?
    @OptionGroup(title: "Configuration") var conf: ConfOptions

    func run() throws {
        let c = try conf.configuration(flags: ["sextant.executor.cores": cores.map(String.init)])
        Console.bootstrapLogging(level: c["sextant.log.level"])
        if let workDir {
            try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
            setenv("TMPDIR", workDir, 1)
        }
        var settings = try ExecutorSettings(master: try ClusterConfiguration.masterAddress(master, c), conf: c.values)
        if let hostName { settings.host = hostName }
        // Pipes run only what this executor's own conf allows; the master learns what at registration.
        PipePolicy.current = .executor(c.values)
        settings.attributes = PipePolicy.current.attributes
        try ExtractionDriver.applyProcessSettings(c.values)
        let tasks = try ExecutorTasks(cores: settings.cores, configuration: c)
        defer { tasks.finish() }
        let daemon = ExecutorDaemon(settings: settings, buildID: ClusterConfiguration.buildID,
                                    handler: HostPinnedTaskHandler(tasks.handler, host: c.values))
        AccessWarning.warnIfUnrestricted(c.values, process: "executor")
        daemon.start()
        Console.info("sextant executor: \(settings.cores) cores, joining \(settings.master)")
        // Stopping drops the master's connection first (no result goes out for a killed program), then
        // the programs of running pipes die with their process groups: none outlives the executor.
        defer { PipeOperator.killRunningPrograms() }
        // SIGTERM or Ctrl-C: drain (take nothing new, finish what is held), then leave; twice: at once.
        let drainTimeout = settings.drainTimeout
        let stop = InterruptHandler(message: "sextant executor: stopping: draining for at most \(drainTimeout) s (again to quit at once)") {
            DispatchQueue.global().async {
                daemon.drain(timeout: drainTimeout)
                PipeOperator.killRunningPrograms()
            }
        }
        defer { stop.remove() }
        try daemon.wait()
    }
}

/// Where an executor runs its tasks: in worker processes (`sextant.executor.isolation`, the
/// default: a native crash loses one worker, not the daemon) or on the daemon's own threads.
final class ExecutorTasks {
    let handler: TaskHandler
    private let workers: WorkerProcessRunner?
    private let processes: WorkerProcesses?

    init(cores: Int, configuration c: Configuration) throws {
        guard try c.value(of: ClusterKeys.executorIsolation) else {
            handler = TaskRunner(registry: ExecutorOperators.registry(c.values))
            workers = nil
            processes = nil
            return
        }
        let processes = try WorkerProcesses(configuration: c.values, forExecutor: true)
        let workers: WorkerProcessRunner
        do {
            workers = try WorkerProcessRunner(slots: cores, launcher: processes.launcher)
        } catch {
            processes.finish()
            throw error
        }
        self.workers = workers
        self.processes = processes
        handler = workers
    }

    func finish() {
        workers?.stop()
        processes?.finish()
    }
}
