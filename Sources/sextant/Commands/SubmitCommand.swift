import ArgumentParser
import Cluster
import Engine
import Foundation
import Pipeline

struct SubmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit an extraction job to a cluster master; prints the job id (with --wait, follows it to the end).",
        discussion: """
        Inputs are listed here and sent as names: executors read them from the shared file system \
        or the object store, so paths must be valid on every node. S3 keys and secrets in \
        sextant.s3.* are never sent: executors use their own environment, profile or instance role.
        """)

    @Argument(help: "Input images: files, directories, globs, @lists, s3:// prefixes, dataset names.")
    var inputs: [String]
    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Extraction") var extraction: ExtractionOptions
    @OptionGroup(title: "Configuration") var conf: ConfOptions
    @OptionGroup(title: "Job") var job: JobOptionsGroup
    @Flag(help: "Wait for the job, showing progress, and exit with its outcome.")
    var wait = false

    func run() throws {
        let c = try conf.configuration(flags: job.flagSettings)
        Console.bootstrapLogging(level: c["sextant.log.level"])
        let spec: JobSpec
        do {
            spec = try job.makeSpec(inputs: inputs, output: output, extraction: extraction, configuration: c)
        } catch {
            Console.error("\(error)")
            throw ExitCode(ExitStatus.unusable)
        }
        try ClusterRun.submit(spec, configuration: c, wait: wait)
    }
}

/// Submitting to a master and following a job: shared by `submit` and `run --master sextant://`.
enum ClusterRun {
    static func submitAndWait(_ spec: JobSpec, master: String, configuration: Configuration) throws {
        try submit(spec, configuration: configuration, wait: true)
    }

    static func submit(_ spec: JobSpec, configuration c: Configuration, wait: Bool) throws {
        let client = try connect(c)
        defer { client.close() }
        // Secrets stay on this machine; executors find their own credentials.
        // The master reads the job's fair-scheduler pool from the request (it does not open payloads).
        let pool = c[SchedulerKeys.pool.name].map { [SchedulerKeys.pool.name: $0] } ?? [:]
        let record = try client.submit(try spec.submissionPayload(), jobID: spec.jobID, settings: pool)
        print(record.id)
        fflush(nil)  // every stream, stdout included: a script reading the id must not wait for the job to end
        guard wait else { return }

        let progress = ProgressReporter(total: spec.inputs.count)
        let interrupt = InterruptHandler(message: "\nsextant: cancelling job \(record.id)") {
            _ = try? connect(c).cancel(record.id)
        }
        defer { interrupt.remove() }
        let final = try client.wait(for: record.id) { data in
            if let totals = JobProgressTotals.Counts.decode(data) {
                progress.show(done: totals.done, failed: totals.failed, sources: totals.sources)
            }
        }
        print(final.outcome?.message ?? "job \(final.id): \(final.status.rawValue)")
        if interrupt.fired { throw ExitCode(ExitStatus.interrupted) }
        switch final.status {
        case .succeeded: return
        case .failed where (final.outcome?.counts["failed"] ?? 0) > 0: throw ExitCode(ExitStatus.someFailed)
        default: throw ExitCode(ExitStatus.someFailed)
        }
    }

    static func connect(_ c: Configuration, master flag: String? = nil) throws -> ClusterClient {
        do {
            return try ClusterClient(master: try ClusterConfiguration.masterAddress(flag, c),
                                     buildID: ClusterConfiguration.buildID, network: try ClusterConfiguration.network(c))
        } catch {
            Console.error("\(error)")
            throw ExitCode(ExitStatus.unusable)
        }
    }
}

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show one job, or every job the master knows (it keeps them across restarts).")
    @Argument(help: "A job id; all jobs when omitted.")
    var job: String?
    @Option(help: "The master, sextant://HOST:PORT (conf sextant.master).")
    var master: String?
    @OptionGroup(title: "Configuration") var conf: ConfOptions

    func run() throws {
        let c = try conf.configuration()
        let client = try ClusterRun.connect(c, master: master)
        defer { client.close() }
        let records = try client.status(of: job)
        let formatter = ISO8601DateFormatter()
        // As wide as the longest id (a stream's batch ids are longer than 16), so every id can be copied.
        let width = max(16, (records.map(\.id.count).max() ?? 0) + 2)
        let column = { (text: String, width: Int) in text.padding(toLength: max(width, text.count + 1), withPad: " ", startingAt: 0) }
        // Who submitted it and the pool it shares the cluster in (`-` on a master without users or pools).
        let userWidth = max(6, (records.map { ($0.user ?? "-").count }.max() ?? 0) + 2)
        let poolWidth = max(9, (records.map { ($0.pool ?? "-").count }.max() ?? 0) + 2)
        print(column("JOB", width) + column("USER", userWidth) + column("POOL", poolWidth)
              + "STATUS       SUBMITTED             INPUTS  FAILED  SOURCES")
        for record in records {
            let counts = record.outcome?.counts ?? [:]
            print(column(record.id, width) + column(record.user ?? "-", userWidth) + column(record.pool ?? "-", poolWidth)
                  + record.status.rawValue.padding(toLength: 13, withPad: " ", startingAt: 0)
                  + formatter.string(from: record.submitted).padding(toLength: 22, withPad: " ", startingAt: 0)
                  + String(counts["inputs"] ?? 0).padding(toLength: 8, withPad: " ", startingAt: 0)
                  + String(counts["failed"] ?? 0).padding(toLength: 8, withPad: " ", startingAt: 0)
                  + String(counts["sources"] ?? 0))
        }
        if let job, let record = records.first, record.id == job, let message = record.outcome?.message {
            print(message)
        }
    }
}

struct CancelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a queued or running job, or stop a stream (--stream DEST).")
    @Argument(help: "The job id.")
    var job: String?
    @Option(help: "The master, sextant://HOST:PORT (conf sextant.master).")
    var master: String?
    @Option(help: "Stop the `sextant stream` writing into DEST (a directory or s3:// prefix) at its next look.")
    var stream: String?
    @OptionGroup(title: "Configuration") var conf: ConfOptions

    func validate() throws {
        if (job == nil) == (stream == nil) { throw ValidationError("give a JOB id or --stream DEST") }
    }

    func run() throws {
        if let stream {
            do {
                try StreamStop.request(output: stream, configuration: try conf.configuration())
            } catch {
                Console.error("\(error)")
                throw ExitCode(ExitStatus.unusable)
            }
            print("\(stream): stop requested")
            return
        }
        guard let job else { return }
        let client = try ClusterRun.connect(try conf.configuration(), master: master)
        defer { client.close() }
        let record = try client.cancel(job)
        print("\(record.id): \(record.status.rawValue)")
    }
}
