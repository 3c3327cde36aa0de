import ArgumentParser
import Cluster
import Engine
import Foundation
import Pipeline

/// Hidden helpers for scripts/bench.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmark helpers (scripts/bench).", shouldDisplay: false,
        subcommands: [SleepJobCommand.self, ListBenchCommand.self, FrameMACBenchCommand.self])
}

/// Prints, per frame size, what the per-frame MAC costs (FrameMACBenchmark), one JSON line each.
struct FrameMACBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "frame-mac", abstract: "Time the per-frame MAC against the copying form and SHA-256 alone.")

    @Option(parsing: .upToNextOption, help: "Frame sizes in bytes.")
    var sizes: [Int] = [256, 4096, 65_536, 1 << 20, 16 << 20]

    func run() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        for row in FrameMACBenchmark.run(sizes: sizes) {
            print(String(decoding: try encoder.encode(row), as: UTF8.self))
        }
    }
}

/// Runs a master whose one job is `--tasks` sleeping tasks over `--executors` executors, and
/// prints one JSON line with the wall time against the ideal (tasks x sleep / executors):
/// the engine's overhead per task with more executors than cores.
struct SleepJobCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sleep-job",
        abstract: "Host a master, wait for N executors, run T tasks of bench.sleep, print the timing as JSON.")

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any; the port is printed on stderr).")
    var port = 0
    @Option(help: "Executors to wait for before the job starts.")
    var executors: Int
    @Option(help: "Tasks in the job.")
    var tasks: Int
    @Option(help: "Milliseconds each task sleeps.")
    var sleepMs: Int
    @Option(help: "Seconds to wait for the executors.")
    var timeout: Double = 60
    @OptionGroup(title: "Configuration") var conf: ConfOptions

    func run() throws {
        let c = try conf.configuration()
        Console.bootstrapLogging(level: c["sextant.log.level"] ?? "warning")
        let network = try ClusterConfiguration.network(c)
        let handler = SleepJobHandler()
        let server = MasterServer(settings: MasterSettings(host: host, port: port, network: network),
                                  buildID: ClusterConfiguration.buildID, jobHandler: handler)
        try server.start()
        defer { server.stop() }
        let bound = server.port ?? port
        Console.info("sextant bench: master on \(host):\(bound)")

        let deadline = Date().addingTimeInterval(timeout)
        while server.executors.count < executors {
            guard Date() < deadline else {
                Console.error("only \(server.executors.count) of \(executors) executors joined in \(timeout) s")
                throw ExitCode(ExitStatus.unusable)
            }
            usleep(10_000)
        }
        let client = try ClusterClient(master: MasterAddress(host: host == "0.0.0.0" ? "127.0.0.1" : host, port: bound),
                                       buildID: ClusterConfiguration.buildID, network: network)
        defer { client.close() }
        let record = try client.submit(try JSONEncoder().encode(SleepJob(tasks: tasks, milliseconds: sleepMs)))
        let final = try client.wait(for: record.id)
        guard final.status == .succeeded, let seconds = handler.seconds else {
            Console.error("sleep job \(record.id): \(final.status.rawValue) \(final.outcome?.message ?? "")")
            throw ExitCode(ExitStatus.someFailed)
        }
        let waves = (tasks + executors - 1) / executors
        let ideal = Double(waves * sleepMs) / 1000
        let overheadPerTask = (seconds - ideal) * Double(executors) / Double(max(tasks, 1))
        let launches = server.launchCounts
        print(String(format: #"{"executors": %d, "tasks": %d, "sleep_ms": %d, "seconds": %.4f, "ideal_seconds": %.4f, "tasks_per_s": %.1f, "overhead_ms_per_task": %.3f, "launch_frames": %d, "largest_launch_frame": %d, "result_frames": %d}"#,
                     executors, tasks, sleepMs, seconds, ideal, Double(tasks) / seconds, overheadPerTask * 1000,
                     launches.frames, launches.largestFrame, launches.resultFrames))
    }
}

/// Runs a SleepJob with the engine's scheduler over the master's executors.
/// @unchecked: `lock` guards `lastSeconds`.
final class SleepJobHandler: JobHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var lastSeconds: Double?

    var seconds: Double? {
        lock.lock(); defer { lock.unlock() }
        return lastSeconds
    }

    func run(_ job: SubmittedJob, backend: ExecutorBackend, context: JobContext) throws -> JobOutcome {
        let sleepJob = try JSONDecoder().decode(SleepJob.self, from: job.payload)
        let scheduler = TaskScheduler(backend: backend)
        scheduler.start()
        defer { scheduler.stop() }
        let result = scheduler.run(try sleepJob.description())
        lock.lock(); lastSeconds = result.duration; lock.unlock()
        let failed = result.failedPartitions.count
        return JobOutcome(status: failed == 0 && result.status == .succeeded ? .succeeded : .failed,
                          message: "\(sleepJob.tasks) tasks in \(String(format: "%.3f", result.duration)) s",
                          counts: ["tasks": sleepJob.tasks, "failed": failed])
    }
}
