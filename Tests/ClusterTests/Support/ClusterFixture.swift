import Engine
import Foundation
import Logging
@testable import Cluster

extension NetworkSettings {
    /// Short timers so tests run fast, with room for a loaded 2-core machine.
    static func fast(secret: String? = nil, heartbeatTimeout: TimeInterval = 3) -> NetworkSettings {
        NetworkSettings(maxFrameBytes: 1 << 20, maxConnections: 64, handshakeTimeout: 2,
                        heartbeatInterval: 0.1, heartbeatTimeout: heartbeatTimeout,
                        secret: secret.map(ClusterSecret.init))
    }
}

/// A job handler that does nothing: for tests that drive the backend themselves.
final class IdleJobHandler: JobHandler {
    func run(_ job: SubmittedJob, backend: ExecutorBackend, context: JobContext) throws -> JobOutcome {
        JobOutcome(status: .succeeded)
    }
}

/// A master and executors on 127.0.0.1, all in this process.
final class ClusterFixture {
    static let buildID = "test-build-1"
    let logs = LogRecorder()
    let network: NetworkSettings
    let historyDirectory: URL?
    let jobHandler: JobHandler
    private(set) var master: MasterServer!
    private(set) var executors: [ExecutorDaemon] = []
    private var stoppedMasters: [MasterServer] = []
    /// Given to each master this fixture starts (`MasterServer.onJobFinished`).
    var onJobFinished: (@Sendable (JobRecord) -> Void)?

    init(network: NetworkSettings = .fast(), historyDirectory: URL? = nil,
         jobHandler: JobHandler = IdleJobHandler()) {
        self.network = network
        self.historyDirectory = historyDirectory
        self.jobHandler = jobHandler
    }

    @discardableResult
    func startMaster(port: Int = 0, maxJobBytes: Int? = nil, pools: [PoolDefinition] = [],
                     usersFile: URL? = nil, maxRunningJobs: Int = 16) throws -> MasterServer {
        var settings = MasterSettings(host: "127.0.0.1", port: port, historyDirectory: historyDirectory, network: network)
        if let maxJobBytes { settings.maxJobBytes = maxJobBytes }
        settings.pools = pools
        settings.usersFile = usersFile
        settings.maxRunningJobs = maxRunningJobs
        let master = MasterServer(
            settings: settings,
            buildID: Self.buildID, jobHandler: jobHandler, logger: logs.logger("master"))
        master.onJobFinished = onJobFinished
        try master.start()
        self.master = master
        return master
    }

    func stopMaster() {
        master.stop()
        stoppedMasters.append(master)
    }

    var address: MasterAddress { MasterAddress(host: "127.0.0.1", port: master.port!) }

    @discardableResult
    func startExecutor(cores: Int = 2, queuedPerSlot: Int? = nil, resultWindow: TimeInterval? = nil,
                       network: NetworkSettings? = nil, buildID: String = ClusterFixture.buildID,
                       work: @escaping (TaskSpec, ExecutorID) -> TaskResult = upperCasing()) -> ExecutorDaemon {
        startExecutor(cores: cores, queuedPerSlot: queuedPerSlot, resultWindow: resultWindow, network: network,
                      buildID: buildID, handler: ClosureTaskHandler(work))
    }

    @discardableResult
    func startExecutor(cores: Int = 2, queuedPerSlot: Int? = nil, resultWindow: TimeInterval? = nil,
                       network: NetworkSettings? = nil, buildID: String = ClusterFixture.buildID,
                       handler: TaskHandler) -> ExecutorDaemon {
        var settings = ExecutorSettings(master: address, cores: cores, host: "127.0.0.1",
                                        reconnectInitialDelay: 0.05, reconnectMaxDelay: 0.2,
                                        network: network ?? self.network)
        if let queuedPerSlot { settings.queuedTasksPerSlot = queuedPerSlot }
        if let resultWindow { settings.resultWindow = resultWindow }
        let daemon = ExecutorDaemon(settings: settings, buildID: buildID,
                                    handler: handler, logger: logs.logger("executor-\(executors.count)"))
        daemon.start()
        executors.append(daemon)
        return daemon
    }

    func client(secret: String?? = .none, buildID: String = ClusterFixture.buildID) throws -> ClusterClient {
        var network = self.network
        if case .some(let override) = secret { network.secret = override.map(ClusterSecret.init) }
        return try ClusterClient(master: address, buildID: buildID, network: network, logger: logs.logger("client"))
    }

    /// Waits until the master lists `count` executors.
    func waitForExecutors(_ count: Int, timeout: TimeInterval = 5) -> Bool {
        eventually(timeout: timeout) { master.executors.count == count }
    }

    func tearDown() {
        executors.forEach { $0.stop() }
        master?.stop()
    }
}
