import Foundation

/// Limits and timers shared by the master, executors and clients.
/// Each field is one `sextant.*` configuration key; the CLI fills them from its configuration.
public struct NetworkSettings: Sendable {
    /// `sextant.network.maxFrameBytes`: the largest frame a peer may send. A larger length
    /// prefix closes the connection at once, before its bytes are buffered. Default 16 MiB.
    public var maxFrameBytes: Int
    /// `sextant.network.maxConnections`: connections the master accepts at once
    /// (executors and clients together); more are closed on accept. Default 1024.
    public var maxConnections: Int
    /// `sextant.network.maxConnectionsPerAddress`: connections one remote address may hold at
    /// once, so one host cannot take every slot. Default 64.
    public var maxConnectionsPerAddress: Int
    /// `sextant.network.idleTimeout`: seconds an established client connection may say nothing
    /// (a client waiting on a job is not idle). Default 300 s.
    public var idleTimeout: TimeInterval
    /// `sextant.network.handshakeTimeout`: seconds a new connection has to finish the
    /// handshake (and authentication), so idle or slow-loris peers cannot hold slots. Default 10 s.
    public var handshakeTimeout: TimeInterval
    /// `sextant.executor.heartbeatInterval`: seconds between an executor's heartbeats. Default 3 s.
    public var heartbeatInterval: TimeInterval
    /// `sextant.network.timeout`: seconds of silence after which the master declares an executor
    /// lost (and an executor gives up on its master and reconnects). Default 30 s: ten missed
    /// heartbeats, long enough to ride out a busy machine, short enough to reschedule promptly.
    public var heartbeatTimeout: TimeInterval
    /// `SEXTANT_AUTH_SECRET` or `sextant.authenticate.secretFile`: the cluster secret or a role's
    /// credential. When set, every connection proves knowledge of it (HMAC-SHA256 challenge-response,
    /// both ways) before any other message, and every later frame carries a MAC. Nil: no
    /// authentication, which only loopback allows.
    public var secret: ClusterSecret?
    /// `sextant.network.requestTimeout`: seconds a client waits for the master to take a request
    /// (a job's bytes written, or an answer to submit, status or cancel) before it gives up with
    /// an error. Default 120 s: enough to store a job of a million inputs on a busy master.
    public var requestTimeout: TimeInterval = 120

    public init(maxFrameBytes: Int = 16 << 20,
                maxConnections: Int = 1024,
                maxConnectionsPerAddress: Int = 64,
                idleTimeout: TimeInterval = 300,
                handshakeTimeout: TimeInterval = 10,
                heartbeatInterval: TimeInterval = 3,
                heartbeatTimeout: TimeInterval = 30,
                secret: ClusterSecret? = nil) {
        self.maxFrameBytes = maxFrameBytes
        self.maxConnections = maxConnections
        self.maxConnectionsPerAddress = maxConnectionsPerAddress
        self.idleTimeout = idleTimeout
        self.handshakeTimeout = handshakeTimeout
        self.heartbeatInterval = heartbeatInterval
        self.heartbeatTimeout = heartbeatTimeout
        self.secret = secret
    }
}

/// How the master listens and where it keeps its job history.
public struct MasterSettings: Sendable {
    /// `sextant.master.host`: the address to bind. Default "0.0.0.0" (all interfaces).
    public var host: String
    /// `sextant.master.port`: the port to bind; 0 picks a free one. Default 7077.
    public var port: Int
    /// `sextant.master.historyDir`: where job records are kept (one JSON file per job) so
    /// status survives a restart. Nil keeps them in memory only.
    public var historyDirectory: URL?
    /// `sextant.master.maxJobBytes`: the largest job a client may submit (it travels in pieces of
    /// at most a frame each). Default 1 GiB, some 7 million inputs.
    public var maxJobBytes: Int = 1 << 30
    public var network: NetworkSettings
    /// `sextant.master.pools`: the fair scheduler's pools (the `default` pool is always there).
    public var pools: [PoolDefinition] = []
    /// `sextant.master.maxRunningJobs`: jobs run at once; more wait, FIFO.
    public var maxRunningJobs = 16
    /// `sextant.master.usersFile`: the users with tokens. Nil: `users.list` in the history directory, or none.
    public var usersFile: URL?

    public static let defaultPort = 7077

    public init(host: String = "0.0.0.0", port: Int = MasterSettings.defaultPort,
                historyDirectory: URL? = nil, network: NetworkSettings = NetworkSettings()) {
        self.host = host
        self.port = port
        self.historyDirectory = historyDirectory
        self.network = network
    }
}

/// How an executor daemon finds its master and what it offers.
public struct ExecutorSettings: Sendable {
    /// The master to join (`sextant://host:port`).
    public var master: MasterAddress
    /// `sextant.executor.cores`: tasks run at once. Default: the machine's active processors.
    public var cores: Int
    /// The host name reported to the master (for logs and locality). Default: this machine's name.
    public var host: String
    /// `sextant.executor.localPaths`: path prefixes on this machine's own disk, for locality.
    public var localPaths: [String]
    /// `sextant.executor.drainTimeout`: how long a draining executor lets its tasks finish. Default 25 s.
    public var drainTimeout: TimeInterval = 25
    /// `sextant.executor.queuedTasksPerSlot`: tasks held per core beyond those running, started as a
    /// core frees with no round trip to the master, at most; filled to QueueDepth. Default 8; 0: a task per core only.
    public var queuedTasksPerSlot = 8
    /// `sextant.executor.resultWindow`: how long a finished result waits for others to share its frame. Default 0.5 ms.
    public var resultWindow: TimeInterval = 0.0005
    /// Declared to the master at registration (`ExecutorInfo.attributes`), e.g. the commands `--pipe` may run here.
    public var attributes: [String: String] = [:]
    /// First delay before reconnecting to a master that went away; doubles up to `reconnectMaxDelay`,
    /// jittered (`Backoff`, at least half of each wait).
    public var reconnectInitialDelay: TimeInterval
    public var reconnectMaxDelay: TimeInterval
    public var network: NetworkSettings

    public init(master: MasterAddress,
                cores: Int = ProcessInfo.processInfo.activeProcessorCount,
                host: String = ProcessInfo.processInfo.hostName,
                localPaths: [String] = [],
                reconnectInitialDelay: TimeInterval = 0.5,
                reconnectMaxDelay: TimeInterval = 15,
                network: NetworkSettings = NetworkSettings()) {
        self.master = master
        self.cores = max(1, cores)
        self.host = host
        self.localPaths = localPaths
        self.reconnectInitialDelay = reconnectInitialDelay
        self.reconnectMaxDelay = reconnectMaxDelay
        self.network = network
    }
}
