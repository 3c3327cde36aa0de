import Cluster
import Engine
import Foundation

/// The cluster modes: the master runs each submitted job's driver over its executors with the
/// engine's scheduler; executors run the tasks with the same registry; a client submits.
enum SkyCluster {
    /// What a client sends: the frames to measure (paths every executor can read).
    struct Job: Codable {
        var frames: [String]
    }

    /// Peers must run the same build: the handshake compares this (here the binary's size and
    /// modification time; Sextant's own CLI hashes the executable).
    static let buildID: String = {
        let path = Bundle.main.executablePath ?? CommandLine.arguments[0]
        let attributes = (try? FileManager.default.attributesOfItem(atPath: path)) ?? [:]
        let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        return "skystats-\(size)-\(Int(modified))"
    }()

    static func runMaster(_ options: Options) throws {
        let settings = MasterSettings(host: options.host, port: options.port)
        let server = MasterServer(settings: settings, buildID: buildID, jobHandler: Driver())
        try server.start()
        print("skystats master listening on \(options.host):\(server.port ?? options.port)")
        try server.waitUntilClosed()
    }

    static func runExecutor(_ options: Options) throws {
        guard let master = options.master else { throw SkyStatsError("executor needs --master sextant://HOST:PORT") }
        var settings = try ExecutorSettings(master: try MasterAddress(parsing: master), conf: [:])
        settings.cores = options.cores
        let daemon = ExecutorDaemon(settings: settings, buildID: buildID, handler: TaskRunner(registry: makeRegistry()))
        daemon.start()
        print("skystats executor: \(settings.cores) cores, joining \(master)")
        try daemon.wait()
    }

    static func submit(_ options: Options) throws {
        guard let master = options.master else { throw SkyStatsError("submit needs --master sextant://HOST:PORT") }
        let frames = try options.writeFrames()
        defer { options.removeFrames() }
        let client = try ClusterClient(master: try MasterAddress(parsing: master), buildID: buildID)
        defer { client.close() }
        let record = try client.submit(try JSONEncoder().encode(Job(frames: frames)))
        let final = try client.wait(for: record.id)
        print("job \(final.id): \(final.status.rawValue): \(final.outcome?.message ?? "")")
        printTable(try final.outcome?.detail.map { try JSONDecoder().decode([SkyStatistics].self, from: $0) } ?? [])
        if final.status != .succeeded { exit(1) }
    }

    /// The master's driver for submitted jobs: an EngineContext over the cluster's executors.
    final class Driver: JobHandler, @unchecked Sendable {
        func run(_ job: SubmittedJob, backend: ExecutorBackend, context: JobContext) throws -> JobOutcome {
            let request = try JSONDecoder().decode(Job.self, from: job.payload)
            let engine = EngineContext(backend: backend, registry: makeRegistry())
            defer { engine.stop() }
            let handle = try engine.dataset(request.frames).map(MeasureSky.self, MeasureSky.Parameters()).submit()
            context.onCancel { handle.cancel() }
            let result = handle.wait()
            let stats = try result.records(as: SkyStatistics.self)
            let failed = result.failedPartitions.count
            return JobOutcome(status: context.isCancelled ? .cancelled : failed == 0 ? .succeeded : .failed,
                              message: "\(stats.count) frames measured, \(failed) failed",
                              counts: ["frames": stats.count, "failed": failed], detail: try JSONEncoder().encode(stats))
        }
    }
}
