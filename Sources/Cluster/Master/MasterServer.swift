import Engine
import Foundation
import Logging
import NIOCore
import NIOPosix

/// What every connection at the master shares.
struct MasterContext: Sendable {
    let settings: MasterSettings
    let buildID: String
    let registry: ExecutorRegistry
    let jobs: JobManager
    /// The users with tokens; nil without a secret (a loopback master has one operator).
    let users: UserDirectory?
    let logger: Logger
    /// Client requests that write the job history (submit, cancel) run here, off the event loop.
    let requestQueue: DispatchQueue
}

/// The master: accepts executors and clients on one port, tracks executors by heartbeat,
/// and runs submitted jobs through the injected `JobHandler`, several at once sharing the executors by pool.
public final class MasterServer: Sendable {
    public let settings: MasterSettings
    public let buildID: String
    private let requestQueue = DispatchQueue(label: "sextant.master.requests")
    private let logger: Logger
    private let group: EventLoopGroup
    private let registry: ExecutorRegistry
    private let jobs: JobManager
    private let connections = ConnectionSet()
    /// The users with tokens (`sextant users`): `sextant.master.usersFile`, else `users.list` in the history directory.
    public let users: UserDirectory?
    /// Set by `start`; `port` and `stop` read them from any thread.
    private let serverChannel = Locked<Channel?>(nil)
    private let sweeper = Locked<RepeatedTask?>(nil)

    /// - Parameters:
    ///   - buildID: must equal every peer's; the CLI passes its version and build hash.
    ///   - group: event loops to serve on; the shared NIO singleton by default.
    public init(settings: MasterSettings, buildID: String, jobHandler: JobHandler,
                logger: Logger = Logger(label: "sextant.master"),
                group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.settings = settings
        self.buildID = buildID
        self.logger = logger
        self.group = group
        let usersFile = settings.usersFile ?? settings.historyDirectory?.appendingPathComponent("users.list")
        self.users = settings.network.secret == nil ? nil : usersFile.map(UserDirectory.init(file:))
        let registry = ExecutorRegistry(pools: settings.pools, logger: logger)
        self.registry = registry
        self.jobs = JobManager(handler: jobHandler,
                               history: JobHistory(directory: settings.historyDirectory, logger: logger),
                               registry: registry, logger: logger, maxRunning: settings.maxRunningJobs)
    }

    /// Called once for every job that ends (succeeded, completed with failures, failed, cancelled),
    /// after its record is saved, on the thread that ended it; set before `start`.
    public var onJobFinished: (@Sendable (JobRecord) -> Void)? {
        get { jobs.onFinish }
        set { jobs.onFinish = newValue }
    }

    /// Loads the job history and starts listening. Throws when the port cannot be bound, and
    /// (secure by default) when it would listen beyond loopback without a secret.
    public func start() throws {
        try MasterServer.checkAuthentication(settings)
        try jobs.start()
        let context = MasterContext(settings: settings, buildID: buildID, registry: registry,
                                    jobs: jobs, users: users, logger: logger,
                                    requestQueue: requestQueue)
        let network = settings.network
        let connections = self.connections
        let logger = self.logger
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // Clients do not heartbeat; keepalive eventually reaps a waiting client whose host vanished.
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .childChannelInitializer { channel in
                if let refusal = connections.insert(channel, limit: network.maxConnections,
                                                    perAddress: network.maxConnectionsPerAddress) {
                    let peer = channel.remoteAddress.map { "\($0)" } ?? "?"
                    logger.warning("refusing connection from \(peer): \(refusal)")
                    return channel.eventLoop.makeFailedFuture(ClusterError.refused("too many connections"))
                }
                channel.closeFuture.whenComplete { _ in connections.remove(channel) }
                return channel.eventLoop.makeCompletedFuture {
                    try ChannelSetup.install(on: channel, maxFrameBytes: network.maxFrameBytes,
                                             idleTimeout: network.idleTimeout,
                                             handler: MasterConnection(master: context))
                }
            }
        do {
            serverChannel.value = try bootstrap.bind(host: settings.host, port: settings.port).wait()
        } catch {
            jobs.stop()
            throw error
        }
        let check = max(0.01, min(network.heartbeatInterval, network.heartbeatTimeout / 2))
        sweeper.value = group.next().scheduleRepeatedTask(initialDelay: .interval(check), delay: .interval(check)) {
            [registry] _ in
            for (id, channel) in registry.expire(olderThan: .interval(network.heartbeatTimeout)) {
                logger.warning("executor \(id) lost: no heartbeat for \(network.heartbeatTimeout) s (sextant.network.timeout)")
                channel.close(promise: nil)
            }
        }
        logger.info("master listening on \(serverChannel.value?.localAddress.map { "\($0)" } ?? "?") (build \(buildID))")
    }

    /// The port actually bound (useful with port 0).
    public var port: Int? { serverChannel.value?.localAddress?.port }

    public var executors: [ExecutorInfo] { registry.executors }

    /// Launch frames sent to executors and the tasks they carried (several per frame when batched).
    public var launchCounts: LaunchCounts { registry.launches }

    /// Seconds since each executor's last heartbeat (or result), for monitoring.
    public var executorHeartbeatAges: [ExecutorID: Double] { registry.heartbeatAges }

    /// The job table (the same records `status` returns to clients).
    public var jobRecords: [JobRecord] { (try? jobs.status(of: nil)) ?? [] }

    /// The jobs `principal` may see.
    public func jobRecords(for principal: Principal) -> [JobRecord] { (try? jobs.status(of: nil, by: principal)) ?? [] }

    /// Cancels a queued or running job, as a client's cancel does (the web UI calls this directly).
    public func cancel(_ jobID: String, by principal: Principal = .local) throws -> JobRecord {
        try jobs.cancel(jobID, by: principal)
    }

    /// Queues a job as a client's submit does (the REST API and the portal call this directly).
    public func submit(payload: Data, jobID: String? = nil, settings: [String: String] = [:],
                       by principal: Principal) throws -> JobRecord {
        try jobs.submit(SubmitRequest(jobID: jobID, payload: payload, settings: settings), by: principal)
    }

    /// Who a bearer token (`sextant users add`) belongs to; nil when it is unknown, revoked or forged.
    public func principal(forToken token: String) -> Principal? {
        guard let secret = settings.network.secret, let users else { return nil }
        return users.authenticate(token: token, secret: secret)
    }

    /// Clients waiting on job `id` right now.
    func waitingClients(for id: String) -> Int { jobs.waiterCount(for: id) }

    /// A backend over this master's executors outside any job (tests drive the wire with it).
    func makeBackend() -> ClusterBackend {
        ClusterBackend(registry: registry, logger: logger)
    }

    /// Stops listening, closes every connection and records unfinished jobs as interrupted.
    /// A handler that ignores cancellation may still be running when this returns.
    public func stop() {
        sweeper.value?.cancel()
        jobs.stop()
        try? serverChannel.value?.close().wait()
        connections.closeAll()
        logger.info("master stopped")
    }

    /// Blocks until the listening socket closes (`stop()` from another thread, or a fatal error).
    public func waitUntilClosed() throws {
        try serverChannel.value?.closeFuture.wait()
    }
}

/// Open connections, for the connection caps and for closing them all on stop.
/// @unchecked: `lock` guards `channels` and `perAddress`.
final class ConnectionSet: @unchecked Sendable {
    private let lock = NSLock()
    private var channels: [ObjectIdentifier: Channel] = [:]
    private var perAddress: [String: Int] = [:]

    /// Nil when `channel` may stay open, else why not (naming the key that limits it).
    func insert(_ channel: Channel, limit: Int, perAddress addressLimit: Int) -> String? {
        let address = channel.remoteAddress?.ipAddress ?? "?"
        lock.lock(); defer { lock.unlock() }
        guard channels.count < limit else { return "\(limit) connections open (sextant.network.maxConnections)" }
        guard perAddress[address, default: 0] < addressLimit else {
            return "\(addressLimit) connections open from \(address) (sextant.network.maxConnectionsPerAddress)"
        }
        channels[ObjectIdentifier(channel)] = channel
        perAddress[address, default: 0] += 1
        return nil
    }

    func remove(_ channel: Channel) {
        lock.lock(); defer { lock.unlock() }
        guard channels.removeValue(forKey: ObjectIdentifier(channel)) != nil else { return }
        let address = channel.remoteAddress?.ipAddress ?? "?"
        perAddress[address, default: 1] -= 1
        if perAddress[address] == 0 { perAddress[address] = nil }
    }

    func closeAll() {
        lock.lock()
        let all = Array(channels.values)
        lock.unlock()
        for channel in all { try? channel.close().wait() }
    }
}
