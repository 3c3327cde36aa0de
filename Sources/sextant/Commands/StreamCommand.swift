import ArgumentParser
import Cluster
import Engine
import Foundation
import Monitor
import Pipeline
import Storage

struct StreamCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stream",
        abstract: "Watch a directory or an s3:// prefix and make each new frame's catalog as it lands.",
        discussion: """
        Each batch of new, complete files runs as one job (the extraction, manifest and atomic \
        commits of `sextant run`); DEST/_stream/checkpoint.json makes a restart continue exactly \
        where the stream stopped, without reprocessing or skipping a file. A file is complete \
        when it was renamed into the watched directory, or unchanged for sextant.stream.settleTime. \
        Stop it with Ctrl-C, SIGTERM or `sextant cancel --stream DEST` (exit 0); the batch under way \
        runs again at the next start. Exit 2: the stream could not start or a batch could not run.
        """)

    @Argument(help: "A directory (watched with inotify where it works, listed otherwise) or s3://bucket/prefix.")
    var input: String
    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Extraction") var extraction: ExtractionOptions
    @OptionGroup(title: "Configuration") var conf: ConfOptions
    @Option(help: "local[N], local[*] (default), or sextant://HOST:PORT: each batch is then a job on that master. Conf key: sextant.master.")
    var master: String?
    @Flag(help: "Do not use inotify: find new files by listing every sextant.stream.pollInterval.")
    var pollOnly = false
    @OptionGroup(title: "Web UI") var ui: StreamUIOptions

    func run() throws {
        let configuration = try conf.configuration(flags: ["sextant.master": master])
        // A stream runs all night: one line a batch (notice), not the engine's five (info).
        Console.bootstrapLogging(level: configuration["sextant.log.level"] ?? "notice")
        let settings: StreamSettings
        let template: JobSpec
        let masterValue: String
        do {
            settings = try StreamSettings(configuration)
            masterValue = try configuration.value(of: SchedulerKeys.master)
            let parameters = ExtractParameters(output: output.out, format: output.format, hdu: HDUChoice(output.hdu),
                                               extraction: try extraction.parameters())
            template = JobSpec(inputs: [], parameters: parameters, settings: configuration.values)
        } catch {
            Console.error("\(error)")
            throw ExitCode(ExitStatus.unusable)
        }
        let batches = try StreamBatches(master: masterValue, configuration: configuration)
        defer { batches.finish() }
        let stream: StreamRunner
        do {
            stream = try StreamRunner(input: input, template: template, settings: settings, runner: batches.runner,
                                      watch: !pollOnly)
        } catch {
            Console.error("\(error)")
            throw ExitCode(ExitStatus.unusable)
        }
        batches.onCancelledElsewhere { stream.stop() }
        let monitoring = try StreamMonitoring(stream: stream, configuration: configuration, ui: ui)
        defer { monitoring?.stop() }
        stream.onFigures = { figures in monitoring?.update(figures) }
        let how = stream.isWatching ? "inotify and listing" : "listing every \(settings.pollInterval) s"
        Console.info("stream \(stream.streamID): watching \(stream.input) (\(how)); catalogs to \(output.out); batches on \(masterValue)")
        let interrupt = InterruptHandler(message: "\nsextant: stopping the stream (the batch under way runs again at the next start)") {
            stream.stop()
        }
        defer { interrupt.remove() }
        do {
            try stream.run()
        } catch {
            Console.error("stream \(stream.streamID): \(error)")
            throw ExitCode(ExitStatus.unusable)
        }
        let figures = stream.figures
        print("stream \(stream.streamID) stopped: \(figures.batches) batches, \(figures.filesCommitted) catalogs committed, "
              + "\(figures.filesFailed) failed, \(figures.filesSkipped) skipped")
    }
}

/// `sextant stream --ui`: the live view (the stream runs until stopped, so no `--ui-keep`).
struct StreamUIOptions: ParsableArguments {
    @Flag(name: .customLong("ui"), help: "Serve the web UI with the stream's live view at /streams (conf sextant.ui.host, sextant.ui.port).")
    var enabled = false
    @Option(name: .customLong("ui-port"), help: "Port for --ui (default 8080; 0 picks a free one, printed at start).")
    var port: Int?
}

/// Where a stream's batches run: here, on worker processes kept for the whole stream, or as
/// jobs on a master.
final class StreamBatches {
    let runner: StreamBatchRunner
    private let local: LocalBatchRunner?
    private let isolation: LocalIsolation?
    private let submitted: SubmittedBatchRunner?

    init(master: String, configuration: Configuration) throws {
        if master.hasPrefix("sextant://") {
            let submitted = SubmittedBatchRunner(submitter: ClientSubmitter(configuration: configuration))
            self.submitted = submitted
            runner = submitted
            local = nil
            isolation = nil
            return
        }
        let (engineSettings, isolation) = try LocalIsolation.start(master: master, configuration: configuration)
        let local = LocalBatchRunner(backend: isolation.backend, engineSettings: engineSettings)
        self.isolation = isolation
        self.local = local
        runner = local
        submitted = nil
    }

    func onCancelledElsewhere(_ action: @escaping @Sendable () -> Void) { submitted?.onCancelledElsewhere = action }

    func finish() {
        local?.finish()
        isolation?.finish()
    }
}

/// `BatchSubmitter` over a `ClusterClient`, one connection per request (a batch's wait may
/// last long; a cancel must not queue behind it).
final class ClientSubmitter: BatchSubmitter, Sendable {
    private let configuration: Configuration

    init(configuration: Configuration) { self.configuration = configuration }

    private func client() throws -> ClusterClient {
        try ClusterClient(master: try ClusterConfiguration.masterAddress(nil, configuration),
                          buildID: ClusterConfiguration.buildID, network: try ClusterConfiguration.network(configuration))
    }

    func status(of jobID: String) throws -> JobStatus? {
        let client = try client()
        defer { client.close() }
        do {
            return try client.status(of: jobID).first { $0.id == jobID }?.status
        } catch ClusterError.requestFailed {
            return nil  // the master has no such job
        }
    }

    func submit(_ payload: Data, jobID: String, settings: [String: String]) throws {
        let client = try client()
        defer { client.close() }
        _ = try client.submit(payload, jobID: jobID, settings: settings)
    }

    func wait(for jobID: String) throws -> JobStatus {
        let client = try client()
        defer { client.close() }
        return try client.wait(for: jobID).status
    }

    func cancel(_ jobID: String) throws {
        let client = try client()
        defer { client.close() }
        _ = try client.cancel(jobID)
    }
}

/// The stream's live view in the web UI (`--ui`): rate, lag, latency percentiles.
final class StreamMonitoring: Sendable {
    private let monitor: Monitor
    private let web: WebServer?
    private let id: String

    init?(stream: StreamRunner, configuration: Configuration, ui: StreamUIOptions) throws {
        guard ui.enabled else { return nil }
        var settings = try MonitorSettings(configuration)
        if let port = ui.port { settings.port = port }
        monitor = try Monitor(settings: settings)
        id = stream.streamID
        monitor.setCancelAction(for: stream.streamID) { stream.stop() }
        web = JobMonitoring.serve(monitor)
        update(stream.figures)
    }

    func update(_ figures: StreamFigures) {
        monitor.updateStream(StreamView(
            id: figures.streamID, input: figures.input, output: figures.output, started: figures.started,
            state: figures.state, batches: figures.batches, filesCommitted: figures.filesCommitted,
            filesFailed: figures.filesFailed, filesSkipped: figures.filesSkipped, bytesRead: figures.bytesRead,
            filesPerSecond: figures.filesPerSecond, megabytesPerSecond: figures.megabytesPerSecond,
            backlog: figures.backlog, lagSeconds: figures.lagSeconds, latencyP50: figures.latencyP50,
            latencyP90: figures.latencyP90, latencyP99: figures.latencyP99))
    }

    func stop() {
        monitor.setCancelAction(for: id, nil)
        web?.stop()
        monitor.close()
    }
}
