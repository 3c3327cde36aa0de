import ArgumentParser
import Cluster
import Engine
import Foundation
import Pipeline

/// `sextant merge OUT`: one sky catalog from a finished job's catalogs.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge a finished job's catalogs into one sky catalog, tiled by HEALPix (HATS-like layout).",
        discussion: """
        Reads the catalogs OUT's _manifest.jsonl lists (else every *.cat.fits / *.ldac.fits under OUT), \
        keys each detection by its HEALPix tile (nested, order K), and merges, per tile, the detections of \
        one source from overlapping frames into one row with NDETECT. Writes SKY/Norder=K/Dir=D/Npix=N.fits, \
        partition_info.csv, properties, _frames.csv, _merge.json and _SUCCESS (SKY: --out, default OUT/sky).
        Exit status: 0 merged, 1 the merge failed or some catalogs could not be read, 2 it could not start, \
        130 interrupted.
        """)

    @Argument(help: "A finished job's output (a directory or s3://bucket/prefix).")
    var catalogs: String
    @Option(name: .shortAndLong, help: "Where the sky catalog goes (default: CATALOGS/sky).")
    var out: String?
    @OptionGroup(title: "Sky merge") var sky: SkyMergeOptions
    @Option(help: "local[N], local[*] (default), or sextant://HOST:PORT. Conf key: sextant.master.")
    var master: String?
    @OptionGroup(title: "Configuration") var conf: ConfOptions

    func validate() throws {
        if sky.order == nil { throw ValidationError("give --order K (the HEALPix order of the tiles)") }
        _ = try sky.matchRadius()
    }

    func run() throws {
        let configuration = try conf.configuration(flags: ["sextant.master": master])
        Console.bootstrapLogging(level: configuration["sextant.log.level"])
        let base = catalogs.hasSuffix("/") ? String(catalogs.dropLast()) : catalogs
        let spec = try sky.spec(catalogs: catalogs, output: out ?? base + "/sky", settings: configuration.values)
        try MergeRun.run(spec, configuration: configuration)
    }
}

/// The merge's flags, shared by `merge` and `run --sky-order`.
struct SkyMergeOptions: ParsableArguments {
    @Option(name: [.customLong("order"), .customLong("sky-order")],
            help: "HEALPix order of the tiles (nested); order 8 tiles are ~14', order 11 ~1.7'. With run: merge after extracting.")
    var order: Int?
    @Option(name: [.customLong("radius"), .customLong("match-radius")],
            help: "Match radius in arcseconds (e.g. 1 or 1arcsec; default 1): detections of one source from different frames within it are one row.")
    var radius: String = "1"
    @Option(help: "Reduce tasks of the merge (each merges whole tiles; default 8).")
    var skyPartitions: Int?
    @Option(help: "The right-ascension column of the catalogs (default ALPHA_J2000).")
    var raColumn: String = "ALPHA_J2000"
    @Option(help: "The declination column of the catalogs (default DELTA_J2000).")
    var decColumn: String = "DELTA_J2000"

    /// `--radius` in arcseconds ("1", "1arcsec", "1\"").
    func matchRadius() throws -> Double {
        var text = radius.trimmingCharacters(in: .whitespaces).lowercased()
        for suffix in ["arcsec", "\""] where text.hasSuffix(suffix) { text = String(text.dropLast(suffix.count)) }
        guard let arcsec = Double(text), arcsec > 0 else {
            throw ValidationError("--radius: '\(radius)' is not a positive number of arcseconds")
        }
        return arcsec
    }

    func spec(catalogs: String, output: String, settings: [String: String]) throws -> SkyMergeSpec {
        guard let order else { throw ValidationError("give --order K") }
        return SkyMergeSpec(catalogs: catalogs, output: output, order: order, matchRadius: try matchRadius() / 3600,
                            columns: SkyColumnNames(ra: raColumn, dec: decColumn), reducePartitions: skyPartitions,
                            settings: settings)
    }
}

/// Runs a merge here (local[N]: worker processes or threads) or on a master, and exits as it went.
enum MergeRun {
    static func run(_ spec: SkyMergeSpec, configuration: Configuration) throws {
        let master = try configuration.value(of: SchedulerKeys.master)
        if master.hasPrefix("sextant://") {
            try ClusterRun.submitMerge(spec, configuration: configuration)
            return
        }
        let (engineSettings, isolation) = try LocalIsolation.start(master: master, configuration: configuration)
        defer { isolation.finish() }
        let driver = SkyMergeDriver(spec: spec, engineSettings: engineSettings)
        let interrupt = InterruptHandler { driver.cancel() }
        defer { interrupt.remove() }
        let report: SkyMergeReport
        do {
            report = try driver.run(backend: isolation.backend)
        } catch {
            Console.error("\(error)")
            throw ExitCode(ExitStatus.unusable)
        }
        print(report.summary)
        if interrupt.fired { throw ExitCode(ExitStatus.interrupted) }
        if report.status != .succeeded || !report.problems.isEmpty { throw ExitCode(ExitStatus.someFailed) }
    }
}

extension ClusterRun {
    /// `merge --master sextant://…`: the master's driver runs the merge on its executors; map
    /// outputs go to SKY/_shuffle (or `sextant.shuffle.location`), a place they all reach.
    static func submitMerge(_ spec: SkyMergeSpec, configuration c: Configuration) throws {
        let client = try connect(c)
        defer { client.close() }
        let record = try client.submit(try spec.submissionPayload(), jobID: spec.jobID)
        print(record.id)
        fflush(nil)  // every stream, stdout included: a script reads the id now
        let interrupt = InterruptHandler(message: "\nsextant: cancelling merge \(record.id)") {
            _ = try? connect(c).cancel(record.id)
        }
        defer { interrupt.remove() }
        let final = try client.wait(for: record.id) { _ in }
        print(final.outcome?.message ?? "merge \(final.id): \(final.status.rawValue)")
        if interrupt.fired { throw ExitCode(ExitStatus.interrupted) }
        if final.status != .succeeded { throw ExitCode(ExitStatus.someFailed) }
    }
}

extension PipelineJobHandler {
    /// A merge a master received: run over its executors, shuffling through the shared store.
    func runMerge(_ submitted: SkyMergeSpec, job: SubmittedJob, backend: ExecutorBackend,
                  context: JobContext) throws -> JobOutcome {
        var spec = submitted
        spec.jobID = job.id
        let (settings, ignored) = HostSettings.merge(host: configuration.values, job: spec.settings)
        if !ignored.isEmpty {
            logger.warning("job \(job.id): ignored settings only the master's own conf may set: \(ignored.joined(separator: ", "))")
        }
        spec.settings = settings
        let driver = SkyMergeDriver(spec: spec, engineSettings: try EngineSettings(Configuration(settings)))
        driver.tasksLeaveThisProcess = true
        driver.defaultShuffle = .underOutput
        context.onCancel { driver.cancel() }
        let report = try driver.run(backend: backend)
        let status: JobStatus = context.isCancelled ? .cancelled : report.status == .succeeded ? .succeeded : .failed
        return JobOutcome(status: status, message: report.summary,
                          counts: ["inputs": report.frames, "sources": report.sources, "failed": report.problems.count],
                          detail: try JSONEncoder().encode(report))
    }
}
