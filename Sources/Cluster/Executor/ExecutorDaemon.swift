import Engine
import Foundation
import Logging
import NIOCore
import NIOPosix

/// An executor: joins a master, runs the tasks it is sent on `cores` threads, heartbeats,
/// and rejoins with backoff whenever the master goes away. A refused handshake (version,
/// build or secret mismatch) is fatal: the daemon stops and `wait()` throws the reason.
/// @unchecked: `condition` guards `stopped`, `finished`, `fatalError` and `session`; the rest are lets.
public final class ExecutorDaemon: @unchecked Sendable {
    public let settings: ExecutorSettings
    public let buildID: String
    private let handler: TaskHandler
    private let logger: Logger
    private let group: EventLoopGroup
    private let pool: WorkerPool

    private let condition = NSCondition()
    private var stopped = false
    private var finished = false
    private var fatalError: ClusterError?
    private var session: ExecutorSession?

    public init(settings: ExecutorSettings, buildID: String, handler: TaskHandler,
                logger: Logger = Logger(label: "sextant.executor"),
                group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.settings = settings
        self.buildID = buildID
        self.handler = handler
        self.logger = logger
        self.group = group
        self.pool = WorkerPool(cores: settings.cores, handler: handler)
    }

    /// An executor whose tasks are computed by `body`.
    public convenience init(settings: ExecutorSettings, buildID: String,
                            logger: Logger = Logger(label: "sextant.executor"),
                            body: @escaping (TaskSpec, ExecutorID) -> TaskResult) {
        self.init(settings: settings, buildID: buildID, handler: ClosureTaskHandler(body), logger: logger)
    }

    /// Starts joining the master in the background.
    public func start() {
        let thread = Thread { [self] in connectLoop() }
        thread.name = "sextant-executor-connection"
        thread.start()
    }

    /// Leaves the master and stops the worker threads (running tasks finish, their results are dropped).
    public func stop() {
        condition.lock()
        stopped = true
        let current = session
        condition.broadcast()
        condition.unlock()
        current?.end()
        pool.stop()
    }

    /// Leaves gracefully (SIGTERM from Slurm, a spot-instance notice): tells the master to launch
    /// nothing more here, lets the tasks it holds finish until `timeout`, then stops. What is
    /// still running then is rescheduled by the master, and none of it counts as a failure.
    /// Returns true when everything it held finished in time.
    @discardableResult
    public func drain(timeout: TimeInterval) -> Bool {
        condition.lock()
        let current = session
        condition.unlock()
        current?.sendDraining()
        pool.drain()
        logger.info("draining: finishing the tasks held, for at most \(timeout) s (sextant.executor.drainTimeout)")
        let finished = pool.waitUntilIdle(deadline: Date(timeIntervalSinceNow: timeout), quiet: min(0.5, timeout / 2))
        if !finished { logger.warning("drain timeout: leaving with tasks still running; the master reschedules them") }
        current?.waitForWrites(until: Date(timeIntervalSinceNow: 2))
        stop()
        return finished
    }

    /// Blocks until the daemon stops; throws the refusal when the master turned it away.
    public func wait() throws {
        condition.lock(); defer { condition.unlock() }
        while !finished { condition.wait() }
        if let fatalError { throw fatalError }
    }

    /// The id the master gave this executor on the current connection; nil while disconnected.
    public var executorID: ExecutorID? {
        condition.lock(); defer { condition.unlock() }
        return session?.executorID
    }

    // MARK: Connection loop

    private var isStopped: Bool {
        condition.lock(); defer { condition.unlock() }
        return stopped
    }

    private func connectLoop() {
        // Jittered, so executors that lost a restarted master do not all call back at once.
        let backoff = Backoff(initialDelay: settings.reconnectInitialDelay, maxDelay: settings.reconnectMaxDelay,
                              jitter: 0.5)
        var failedJoins = 0
        while !isStopped {
            do {
                let session = try join()
                failedJoins = 0
                if let reason = serve(session) {
                    logger.warning("lost the master \(settings.master): \(reason); reconnecting")
                }
                pool.abandon(session)
                condition.lock()
                self.session = nil
                condition.unlock()
                session.end()
            } catch let error as ClusterError where error.isFatal {
                logger.error("cannot join the master \(settings.master): \(error); not retrying (fix the configuration)")
                condition.lock()
                fatalError = error
                condition.unlock()
                stop()
                break
            } catch {
                let delay = backoff.delay(beforeRetry: failedJoins)
                failedJoins += 1
                logger.info("cannot join the master \(settings.master): \(error); retrying in \(String(format: "%.2f", delay)) s")
                sleep(delay)
            }
        }
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// Connects, handshakes and registers; the session is current when this returns.
    private func join() throws -> ExecutorSession {
        let network = settings.network
        let connection = try PeerConnection.open(to: settings.master, role: .executor, buildID: buildID,
                                                 network: network, group: group, logger: logger)
        connection.send(.register(ExecutorRegistration(host: settings.host, cores: settings.cores,
                                                       queuedTasks: settings.cores * settings.queuedTasksPerSlot,
                                                       localPaths: settings.localPaths,
                                                       attributes: settings.attributes)))
        guard case .registered(let ack) = try connection.receive(timeout: network.handshakeTimeout) else {
            connection.close()
            throw ClusterError.protocolViolation("the master did not acknowledge the registration")
        }
        let session = ExecutorSession(executorID: ack.executorID, connection: connection,
                                      resultWindow: settings.resultWindow,
                                      fullFrame: settings.cores * (1 + settings.queuedTasksPerSlot))
        session.heartbeatInterval = min(network.heartbeatInterval, ack.heartbeatInterval ?? .infinity)
        condition.lock()
        let cancelled = stopped
        if !cancelled { self.session = session }
        condition.unlock()
        if cancelled {
            session.end()
            throw ClusterError.connectionClosed("stopped")
        }
        logger.info("registered with \(settings.master) as \(ack.executorID) (\(settings.cores) cores)")
        return session
    }

    /// Runs the session until its connection ends or the master falls silent; returns why
    /// (nil when the daemon was stopped).
    private func serve(_ session: ExecutorSession) -> String? {
        let network = settings.network
        let connection = session.connection
        var lastHeard = Date()
        let interval = session.heartbeatInterval
        var nextBeat = Date(timeIntervalSinceNow: interval)
        while !isStopped {
            let message: Message?
            do {
                message = try connection.receive(timeout: max(0, nextBeat.timeIntervalSinceNow))
            } catch {
                return isStopped ? nil : "\(error)"
            }
            if let message {
                lastHeard = Date()
                switch message {
                case .launchTask(let spec): pool.submit([spec], session: session)
                case .launchTasks(let specs): pool.submit(specs, session: session)
                case .cancelTask(let id): pool.cancel(id, session: session)
                case .heartbeatAck: break
                default: return "protocol violation: the master sent \(message.type)"
                }
            }
            if Date() >= nextBeat {
                connection.send(.heartbeat)
                nextBeat = Date(timeIntervalSinceNow: interval)
            }
            if -lastHeard.timeIntervalSinceNow > network.heartbeatTimeout {
                return "no word from the master for \(network.heartbeatTimeout) s (sextant.network.timeout)"
            }
        }
        return nil
    }

    /// Sleeps, waking early on stop.
    private func sleep(_ seconds: TimeInterval) {
        let deadline = Date(timeIntervalSinceNow: seconds)
        condition.lock(); defer { condition.unlock() }
        while !stopped && condition.wait(until: deadline) {}
    }
}
