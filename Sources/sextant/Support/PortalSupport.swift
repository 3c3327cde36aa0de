import ArgumentParser
import Cluster
import Engine
import Foundation
import Monitor
import Pipeline

/// A REST or portal `JobRequest` as a JobSpec: `sextant submit`'s own parsers (its extraction
/// flags, --out and --format, the same input expansion), run on the master with the master's conf.
/// Inputs and the output must be under `sextant.executor.allowedRoots`, checked before anything is
/// listed, so a user cannot make the master list or write elsewhere.
enum PortalSubmission {
    /// Flags that name files on the master: a portal user sends the files' text instead.
    static let refusedFlags: Set<String> = ["sex-config", "param", "filter"]

    static func spec(for request: JobRequest, configuration: Configuration, uploadDirectory: URL?,
                     jobID: String) throws -> JobSpec {
        let roots = AllowedRoots(settings: configuration.values)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("sextant-portal-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        var arguments = ["--out", request.output]
        if let format = request.format { arguments += ["--format", format] }
        for (name, value) in (request.parameters ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard !refusedFlags.contains(name), name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
                throw PortalError("parameter '\(name)' is not accepted here (send .sex and .param files as text)")
            }
            arguments += ["--\(name)", value]
        }
        for (flag, text) in [("--sex-config", request.sexConfig), ("--param", request.paramFile)] {
            guard let text, !text.isEmpty else { continue }
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            let file = scratch.appendingPathComponent(flag == "--param" ? "job.param" : "job.sex")
            try Data(text.utf8).write(to: file)
            arguments += [flag, file.path]
        }
        let options: Options
        do { options = try Options.parse(arguments) } catch {
            throw PortalError(Options.message(for: error))
        }
        var inputs = request.inputs
        if let uploads = request.uploads, !uploads.isEmpty {
            inputs += try store(uploads, in: uploadDirectory, jobID: jobID)
        }
        for input in inputs { try roots.check(input, purpose: "an input") }
        try roots.check(request.output, purpose: "the output")
        var settings = configuration.values
        if let pool = request.pool { settings[SchedulerKeys.pool.name] = pool }
        var spec = try JobOptionsGroup.parse([]).makeSpec(inputs: inputs, output: options.output, extraction: options.extraction,
                                                  configuration: Configuration(settings))
        spec.jobID = jobID
        return spec
    }

    /// Uploaded FITS files go to `uploadDirectory/JOB/` (which executors must read: shared storage).
    private static func store(_ uploads: [String: Data], in directory: URL?, jobID: String) throws -> [String] {
        guard let directory else { throw PortalError("this master takes no uploads (sextant.master.uploadDir)") }
        let job = directory.appendingPathComponent(jobID)
        try FileManager.default.createDirectory(at: job, withIntermediateDirectories: true)
        return try uploads.keys.sorted().map { name in
            let base = (name as NSString).lastPathComponent
            guard !base.isEmpty, !base.hasPrefix("."), InputListing.isImageName(base) else {
                throw PortalError("upload '\(name)': not a FITS file name (.fits, .fit, .fts, optionally .gz or .bz2)")
            }
            let file = job.appendingPathComponent(base)
            try uploads[name]!.write(to: file, options: .atomic)
            return file.path
        }
    }

    struct Options: ParsableArguments {
        @OptionGroup var output: OutputOptions
        @OptionGroup var extraction: ExtractionOptions
    }
}

/// The master's job table, executors, cancel and portal, for the monitor.
/// `attach` runs after the monitor (which may already call in from its threads) holds it, so
/// what it sets lives in a lock box.
final class MasterMonitorHost: PortalHost, Sendable {
    private struct Attachment {
        weak var server: MasterServer?
        weak var monitor: Monitor?
        var configuration = Configuration([:])
        var uploadDirectory: URL?
    }

    private let attached = Locked(Attachment())
    private var server: MasterServer? { attached.value.server }
    private var monitor: Monitor? { attached.value.monitor }
    private var configuration: Configuration { attached.value.configuration }
    private var uploadDirectory: URL? { attached.value.uploadDirectory }

    func attach(_ server: MasterServer, monitor: Monitor? = nil, configuration: Configuration = Configuration([:]),
                uploadDirectory: URL? = nil) {
        attached.value = Attachment(server: server, monitor: monitor, configuration: configuration,
                                    uploadDirectory: uploadDirectory)
    }

    func jobTable() -> [HostJob] {
        (server?.jobRecords ?? []).map { record in
            HostJob(id: record.id, submitted: record.submitted, started: record.started, finished: record.finished,
                    status: record.status.rawValue, message: record.outcome?.message ?? "")
        }
    }

    func executorTable() -> [HostExecutor] {
        let ages = server?.executorHeartbeatAges ?? [:]
        return (server?.executors ?? []).map {
            HostExecutor(id: $0.id, host: $0.host, cores: $0.cores, heartbeatAge: ages[$0.id])
        }
    }

    /// The master's own cancel, as `sextant cancel` reaches it, so queued and running jobs are
    /// cancelled and recorded exactly the same way.
    func cancel(jobID: String) throws {
        guard let server, server.port != nil else { throw MonitorError.cannotCancel(jobID, reason: "the master is not running") }
        guard server.jobRecords.contains(where: { $0.id == jobID }) else { throw MonitorError.noSuchJob(jobID) }
        do {
            _ = try server.cancel(jobID)
        } catch {
            throw MonitorError.cannotCancel(jobID, reason: "\(error)")
        }
    }

    // MARK: Portal

    /// With a secret: once the master has users (they must not see each other's jobs), or when the UI
    /// listens beyond loopback. A loopback UI of a master without users stays open to this machine, as before.
    var requiresLogin: Bool {
        guard let server, server.settings.network.secret != nil else { return false }
        let host = monitor?.settings.host ?? "127.0.0.1"
        let loopback = host == "localhost" || host == "::1" || host.hasPrefix("127.")
        return !loopback || (try? server.users?.all().isEmpty) == false
    }

    func user(forToken token: String) -> PortalUser? {
        server?.principal(forToken: token).map { PortalUser(name: $0.name, isAdmin: $0.isAdmin) }
    }

    func owner(of jobID: String) -> String? {
        server?.jobRecords.first { $0.id == jobID }?.user
    }

    func submit(_ request: JobRequest, by user: PortalUser) throws -> String {
        guard let server else { throw PortalError("the master is not running") }
        let id = request.jobID ?? JobDescription.makeJobID()
        let spec = try PortalSubmission.spec(for: request, configuration: configuration,
                                             uploadDirectory: uploadDirectory, jobID: id)
        let settings = request.pool.map { [SchedulerKeys.pool.name: $0] } ?? [:]
        return try server.submit(payload: try spec.submissionPayload(), jobID: id, settings: settings,
                                 by: Principal(name: user.name, isAdmin: user.isAdmin)).id
    }

    func file(_ name: String, of jobID: String) throws -> Data? {
        try outputs(of: jobID)?.file(name)
    }

    func catalogs(of jobID: String) throws -> [String] {
        try outputs(of: jobID)?.catalogs() ?? []
    }

    private func outputs(of jobID: String) throws -> JobOutputFiles? {
        guard let output = monitor?.jobDetail(jobID)?.job.output else { return nil }
        return try JobOutputFiles(output: output, settings: configuration.values)
    }
}
