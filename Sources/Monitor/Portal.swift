import Foundation

/// Someone signed in to the portal or the REST API: a user sees and cancels their own jobs,
/// an admin every job.
public struct PortalUser: Sendable, Equatable {
    public var name: String
    public var isAdmin: Bool

    public init(name: String, isAdmin: Bool) {
        self.name = name
        self.isAdmin = isAdmin
    }
}

/// A job as the REST API (`POST /api/v1/jobs`, JSON) and the portal's form submit it: the same
/// words as `sextant submit`'s (inputs, `--out`, `--format`, the extraction flags without their
/// dashes, `--sex-config` and `--param` as file contents), so both mean the same job.
public struct JobRequest: Codable, Sendable, Equatable {
    /// Paths, directories, globs or s3:// prefixes the master can read (under sextant.executor.allowedRoots).
    public var inputs: [String]
    /// Where the catalogs go (`--out`).
    public var output: String
    public var jobID: String?
    /// `--format`: fits (default), ldac, csv, ...
    public var format: String?
    /// Extraction flags by their long name without dashes, e.g. {"threshold": "3", "minarea": "5"}.
    public var parameters: [String: String]?
    /// A SExtractor .sex file's text (`--sex-config`), and a .param file's (`--param`).
    public var sexConfig: String?
    public var paramFile: String?
    /// The fair-scheduler pool (`sextant.scheduler.pool`).
    public var pool: String?
    /// Files uploaded with the job, by name: FITS inputs the master stores for the executors to read.
    public var uploads: [String: Data]?

    public init(inputs: [String], output: String, jobID: String? = nil, format: String? = nil,
                parameters: [String: String]? = nil, sexConfig: String? = nil, paramFile: String? = nil,
                pool: String? = nil, uploads: [String: Data]? = nil) {
        self.inputs = inputs
        self.output = output
        self.jobID = jobID
        self.format = format
        self.parameters = parameters
        self.sexConfig = sexConfig
        self.paramFile = paramFile
        self.pool = pool
        self.uploads = uploads
    }
}

/// A master's portal: who a token belongs to, whose a job is, submitting, cancelling and the
/// job's files. The monitor serves pages and the REST API over it; Monitor knows no cluster.
public protocol PortalHost: MonitorHost {
    /// False on a loopback master without a secret: everyone there is `PortalUser(name: "local", isAdmin: true)`.
    var requiresLogin: Bool { get }
    /// Who `token` (a `sextant users add` token) belongs to; nil when unknown, revoked or forged.
    func user(forToken token: String) -> PortalUser?
    /// The user a job belongs to.
    func owner(of jobID: String) -> String?
    /// Queues the job; returns its id. Throws a message for the user.
    func submit(_ request: JobRequest, by user: PortalUser) throws -> String
    /// The job's files: `_manifest.jsonl`, or a catalog its manifest names. Nil when absent.
    func file(_ name: String, of jobID: String) throws -> Data?
    /// The catalogs the job's manifest lists as committed, in manifest order.
    func catalogs(of jobID: String) throws -> [String]
}

extension PortalUser {
    static let local = PortalUser(name: "local", isAdmin: true)
}
