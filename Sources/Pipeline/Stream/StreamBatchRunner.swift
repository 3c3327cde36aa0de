import Engine
import Foundation
import Logging

/// Runs one batch's job to its end, so that its `_manifest.jsonl` is in the output: here
/// (`LocalBatchRunner`) or on a cluster master (the CLI's, through `ClusterClient`).
public protocol StreamBatchRunner: AnyObject, Sendable {
    /// Runs `spec` and returns when it has ended; throws when it could not run.
    func run(_ spec: JobSpec) throws
    /// Stops the batch under way, if any; its manifest still says what ran.
    func cancel()
}

/// Batches run by an `ExtractionDriver` in this process on one backend kept for the whole
/// stream (its worker processes start once, not per batch).
/// @unchecked: `lock` guards `driver` and `cancelled`; `prepare` is set before the first batch.
public final class LocalBatchRunner: StreamBatchRunner, @unchecked Sendable {
    private let backend: KeptBackend
    private let engineSettings: EngineSettings
    private let lock = NSLock()
    private var driver: ExtractionDriver?
    private var cancelled = false
    /// Called with each batch's driver before it runs (a monitor's listeners).
    public var prepare: ((ExtractionDriver) -> Void)?

    public init(backend: ExecutorBackend, engineSettings: EngineSettings) {
        self.backend = KeptBackend(backend)
        self.engineSettings = engineSettings
    }

    public func run(_ spec: JobSpec) throws {
        let driver = ExtractionDriver(spec: spec, engineSettings: engineSettings)
        prepare?(driver)
        let stop = lock.withLock { () -> Bool in
            self.driver = driver
            return cancelled
        }
        if stop { driver.cancel() }
        defer { lock.withLock { self.driver = nil } }
        _ = try driver.run(backend: backend)
    }

    public func cancel() {
        let driver = lock.withLock { () -> ExtractionDriver? in
            cancelled = true
            return self.driver
        }
        driver?.cancel()
    }

    /// Stops the backend: call once, when the stream has ended.
    public func finish() { backend.finish() }
}

/// A backend that outlives the scheduler of each batch: `stop` (which a scheduler calls when
/// its job ends) is ignored; `finish` stops the real one. Each new scheduler's `start` is
/// passed on, and the backend reports its executors to it again.
final class KeptBackend: ExecutorBackend, Sendable {
    private let backend: ExecutorBackend

    init(_ backend: ExecutorBackend) { self.backend = backend }

    func start(events: BackendEvents) { backend.start(events: events) }
    func launch(_ task: TaskSpec, on executor: ExecutorID) { backend.launch(task, on: executor) }
    func launch(_ tasks: [TaskLaunch]) { backend.launch(tasks) }
    func cancel(_ id: TaskAttemptID, on executor: ExecutorID) { backend.cancel(id, on: executor) }
    func stop() {}
    func knownExecutors() -> [ExecutorInfo]? { backend.knownExecutors() }
    func finish() { backend.stop() }
}
