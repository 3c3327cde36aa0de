import Foundation
import Logging

/// The driver: where datasets come from and where their jobs run. The same binary
/// registers the same operators on the driver and on every executor.
/// @unchecked: `shuffleCounter` guards `shufflesMade`; the rest are lets.
public final class EngineContext: @unchecked Sendable {
    public let registry: OperatorRegistry
    public let scheduler: TaskScheduler
    /// Where this context's shuffles keep map outputs; its write and read steps are registered
    /// in `registry`.
    public let shuffleStore: ShuffleStore
    /// Runs jobs whose lineage has shuffles, as stages.
    public let dagScheduler: DAGScheduler

    /// `shuffleStore` nil: executor-local outputs under a fresh temporary directory, removed by `stop()`.
    public init(backend: ExecutorBackend, registry: OperatorRegistry, settings: EngineSettings = EngineSettings(),
                shuffleStore: ShuffleStore? = nil, logger: Logger = Logger(label: "sextant.engine")) {
        self.registry = registry
        self.scheduler = TaskScheduler(backend: backend, settings: settings, logger: logger)
        let store = shuffleStore ?? ShuffleStores.executorLocal(directory: FileManager.default.temporaryDirectory
            .appendingPathComponent("sextant-shuffle-\(UUID().uuidString.prefix(8).lowercased())"))
        self.ownsShuffleDirectory = shuffleStore == nil
        self.shuffleStore = store
        self.shuffleStoreToken = InProcessShuffleStores.shared.add(store)
        registry.registerShuffleOperators(store: store)
        self.dagScheduler = DAGScheduler(scheduler: scheduler, store: store, settings: settings, logger: logger)
    }

    private let ownsShuffleDirectory: Bool
    /// Names `shuffleStore` to shuffle tasks run in this process, should another context share the registry.
    let shuffleStoreToken: String
    private let shuffleCounter = NSLock()
    private var shufflesMade = 0
    private let contextTag = UUID().uuidString.prefix(8).lowercased()

    /// A shuffle id unique to this context (and, by its random tag, among contexts sharing a store).
    func makeShuffleID() -> String {
        shuffleCounter.lock(); defer { shuffleCounter.unlock() }
        shufflesMade += 1
        return "shuffle-\(contextTag)-\(shufflesMade)"
    }

    /// A local[N] context: `slots` from the settings (`sextant.local.slots`), else one per core.
    public static func local(registry: OperatorRegistry, settings: EngineSettings = EngineSettings(),
                             shuffleStore: ShuffleStore? = nil,
                             logger: Logger = Logger(label: "sextant.engine")) -> EngineContext {
        EngineContext(backend: LocalBackend(registry: registry, slots: settings.localSlots),
                      registry: registry, settings: settings, shuffleStore: shuffleStore, logger: logger)
    }

    /// A source dataset over `records` (usually input URIs), split by `partitioning`.
    public func dataset(_ records: [String], partitioning: Partitioning = .perRecord) throws -> Dataset<String> {
        let source = Source(records: records, plan: try PartitionPlan(records: records, partitioning: partitioning))
        return Dataset(context: self, source: source, steps: [])
    }

    /// A source dataset of `plan.count` partitions whose records are made when each task
    /// launches (`inputs(i)`: partition i's, each a `Record` as JSON, or as is for String), so the
    /// driver never holds them all: a job over 10^6 inputs keeps its own compact form of them.
    public func dataset<Record: Codable>(plan: PartitionPlan, of type: Record.Type = String.self,
                                         inputs: @escaping @Sendable (Int) -> [String]) -> Dataset<Record> {
        Dataset<Record>(context: self, source: Source(recordCount: plan.recordCount, plan: plan, inputs: inputs),
                        steps: [])
    }

    public func stop() {
        scheduler.stop()
        dagScheduler.removeShuffles()
        InProcessShuffleStores.shared.remove(shuffleStoreToken)
        if ownsShuffleDirectory, let root = ((shuffleStore as? BlobShuffleStore)?.blobs as? DirectoryBlobStore)?.root {
            try? FileManager.default.removeItem(at: root)
        }
    }
}

/// The records every dataset of one lineage derives from, planned once and shared.
final class Source: Sendable {
    let recordCount: Int
    let plan: PartitionPlan
    /// Set when the records are a shuffle's reduce partitions: the lineage goes on through it.
    let shuffle: ShuffleDependency?
    private let makeInputs: @Sendable (Int) -> [String]

    init(recordCount: Int, plan: PartitionPlan, shuffle: ShuffleDependency? = nil,
         inputs: @escaping @Sendable (Int) -> [String]) {
        self.recordCount = recordCount
        self.plan = plan
        self.shuffle = shuffle
        self.makeInputs = inputs
    }

    convenience init(records: [String], plan: PartitionPlan, shuffle: ShuffleDependency? = nil) {
        self.init(recordCount: records.count, plan: plan, shuffle: shuffle) { Array(records[plan.range(of: $0)]) }
    }

    func inputs(of partition: Int) -> [String] { makeInputs(partition) }
}

/// A partitioned collection known by its lineage: the source records and the chain of
/// registered operators that computes each partition from them. Transformations only
/// extend the chain; actions run a job.
public struct Dataset<Element: Codable>: Sendable {
    public let context: EngineContext
    let source: Source
    /// The narrow transformations from the source to this dataset, in order.
    public let steps: [OperatorStep]

    init(context: EngineContext, source: Source, steps: [OperatorStep]) {
        self.context = context
        self.source = source
        self.steps = steps
    }

    public var partitionCount: Int { source.plan.count }
    public var plan: PartitionPlan { source.plan }

    /// The source records partition `index` is computed from.
    public func inputs(of index: Int) -> [String] { source.inputs(of: index) }

    /// A readable account of how this dataset is computed.
    public var lineage: String {
        ([source.lineage] + steps.map(\.name))
            .joined(separator: " -> ")
    }

    // MARK: Transformations

    public func map<Op: MapOperator>(_ op: Op.Type, _ parameters: Op.Parameters) throws -> Dataset<Op.Output>
    where Op.Input == Element {
        try appending(op, parameters)
    }

    public func flatMap<Op: FlatMapOperator>(_ op: Op.Type, _ parameters: Op.Parameters) throws -> Dataset<Op.Output>
    where Op.Input == Element {
        try appending(op, parameters)
    }

    public func filter<Op: FilterOperator>(_ op: Op.Type, _ parameters: Op.Parameters) throws -> Dataset<Element>
    where Op.Input == Element {
        try appending(op, parameters)
    }

    public func mapPartitions<Op: PartitionOperator>(_ op: Op.Type, _ parameters: Op.Parameters) throws
        -> Dataset<Op.Output> where Op.Input == Element {
        try appending(op, parameters)
    }

    /// A step registered by name (a closure operator); `Output` must match what it returns.
    public func mapPartitions<Output: Codable>(named name: String, parameters: Data = Data(),
                                               as output: Output.Type = Output.self) -> Dataset<Output> {
        Dataset<Output>(context: context, source: source, steps: steps + [OperatorStep(name: name, parameters: parameters)])
    }

    private func appending<Op: PartitionOperator>(_ op: Op.Type, _ parameters: Op.Parameters) throws
        -> Dataset<Op.Output> {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let step = OperatorStep(name: Op.name, parameters: try encoder.encode(parameters))
        return Dataset<Op.Output>(context: context, source: source, steps: steps + [step])
    }

    // MARK: Actions

    /// Describes the job that computes every partition of this dataset.
    public func job(settings: [String: String] = [:], options: JobOptions = JobOptions(),
                    jobID: String = JobDescription.makeJobID()) -> JobDescription {
        let source = self.source
        return JobDescription(jobID: jobID, partitionCount: partitionCount, inputs: { source.inputs(of: $0) },
                              steps: steps, settings: settings, options: options)
    }

    /// Starts computing every partition and returns at once; `wait()` or `cancel()` the handle.
    /// A lineage with shuffles runs as stages (`DAGScheduler`).
    /// `jobID` names the whole job: its stage attempts are `JOB.sSTAGE.ATTEMPT`.
    public func submit(settings: [String: String] = [:], options: JobOptions = JobOptions(),
                       jobID: String = JobDescription.makeJobID()) -> JobHandle {
        if source.shuffle != nil {
            return context.dagScheduler.submit(source: source, steps: steps, settings: settings, options: options,
                                               jobID: jobID)
        }
        return context.scheduler.submit(job(settings: settings, options: options, jobID: jobID))
    }

    /// Runs the chain whose last operator commits outputs and reports every partition:
    /// outcome, attempts, failure reasons, and the records the last step returned.
    /// Failed partitions do not throw; look at `status` and `failedPartitions`.
    public func save(settings: [String: String] = [:], options: JobOptions = JobOptions()) -> JobResult {
        submit(settings: settings, options: options).wait()
    }

    /// All records, in partition order. Throws `JobError` unless every partition succeeded.
    public func collect(settings: [String: String] = [:], options: JobOptions = JobOptions()) throws -> [Element] {
        let result = save(settings: settings, options: options)
        guard result.status == .succeeded else { throw JobError(result: result) }
        return try result.records(as: Element.self)
    }

    /// The number of records. Throws `JobError` unless every partition succeeded.
    public func count(settings: [String: String] = [:], options: JobOptions = JobOptions()) throws -> Int {
        let result = save(settings: settings, options: options)
        guard result.status == .succeeded else { throw JobError(result: result) }
        return result.partitions.reduce(0) { $0 + $1.records.count }
    }
}
