import Engine
import Foundation

// The keys are declared in Settings' `ClusterKeys`; these read them into Cluster's settings.

extension NetworkSettings {
    /// Reads the network keys from `conf`; missing keys keep their defaults. The secret comes from
    /// `sextant.authenticate.secretFile`, then SEXTANT_AUTH_SECRET; `sextant.authenticate.secret` is refused.
    public init(conf: [String: String],
                environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let c = Configuration(conf)
        self.init(maxFrameBytes: Int(try c.value(of: ClusterKeys.maxFrameBytes)),
                  maxConnections: try c.value(of: ClusterKeys.maxConnections),
                  handshakeTimeout: try c.value(of: ClusterKeys.handshakeTimeout),
                  heartbeatInterval: try c.value(of: ClusterKeys.heartbeatInterval),
                  heartbeatTimeout: try c.value(of: ClusterKeys.networkTimeout))
        maxConnectionsPerAddress = try c.value(of: ClusterKeys.maxConnectionsPerAddress)
        idleTimeout = try c.value(of: ClusterKeys.idleTimeout)
        guard heartbeatTimeout > heartbeatInterval else {
            throw ConfigurationError.badValue(key: ClusterKeys.networkTimeout.name, value: "\(heartbeatTimeout)s",
                                              expected: "more than \(ClusterKeys.heartbeatInterval.name) (\(heartbeatInterval)s)")
        }
        requestTimeout = try c.value(of: ClusterKeys.requestTimeout)
        secret = try ClusterSecret.resolve(file: try c.value(of: ClusterKeys.secretFile),
                                           value: try c.value(of: ClusterKeys.secret), environment: environment)
    }
}

extension MasterSettings {
    public init(conf: [String: String],
                environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let c = Configuration(conf)
        self.init(host: try c.value(of: ClusterKeys.masterHost), port: try c.value(of: ClusterKeys.masterPort),
                  network: try NetworkSettings(conf: conf, environment: environment))
        if host.isEmpty { host = ClusterKeys.masterHost.defaultValue }
        maxJobBytes = Int(try c.value(of: ClusterKeys.maxJobBytes))
        if let directory = try c.value(of: ClusterKeys.historyDirectory), !directory.isEmpty {
            historyDirectory = URL(fileURLWithPath: (directory as NSString).expandingTildeInPath)
        }
        pools = try PoolDefinition.parse(try c.value(of: ClusterKeys.pools))
        maxRunningJobs = try c.value(of: ClusterKeys.maxRunningJobs)
        if let file = try c.value(of: ClusterKeys.usersFile), !file.isEmpty {
            usersFile = URL(fileURLWithPath: (file as NSString).expandingTildeInPath)
        }
    }
}

extension ExecutorSettings {
    public init(master: MasterAddress, conf: [String: String],
                environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let c = Configuration(conf)
        self.init(master: master, network: try NetworkSettings(conf: conf, environment: environment))
        if let cores = try c.value(of: ClusterKeys.executorCores) { self.cores = cores }
        localPaths = try c.value(of: ClusterKeys.executorLocalPaths)
        drainTimeout = try c.value(of: ClusterKeys.drainTimeout)
        queuedTasksPerSlot = try c.value(of: ClusterKeys.queuedTasksPerSlot)
        resultWindow = try c.value(of: ClusterKeys.resultWindow)
    }
}
