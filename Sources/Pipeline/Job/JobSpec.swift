import Engine
import Foundation

/// A source-extraction job, complete enough to run anywhere: `sextant run` builds one and
/// runs it in-process; `sextant submit` ships it to a master, whose driver runs it the same way.
/// The `--pipe` part of a job: the command and the directory it runs in.
public struct PipeJob: Codable, Equatable, Sendable {
    public var template: PipeTemplate
    public var workingDirectory: String

    public init(template: PipeTemplate, workingDirectory: String) {
        self.template = template
        self.workingDirectory = workingDirectory
    }
}

public struct JobSpec: Codable, Equatable, Sendable {
    public var jobID: String
    public var inputs: [InputFile]
    public var parameters: ExtractParameters
    /// Skip inputs whose catalogs are already committed (an interrupted job continues).
    public var resume: Bool
    /// Partitions by count; nil with no `partitionBytes` means one input per task,
    /// which balances best when executors pull work.
    public var partitions: Int?
    public var partitionBytes: Int64?
    /// Conf keys the tasks need (store endpoint and region, spool threshold, ...).
    public var settings: [String: String]
    /// Set for `--pipe`: each input goes through the user's program instead of SEP.
    public var pipe: PipeJob?
    /// `--where`: only inputs whose header matches this expression run (`HeaderExpression`).
    public var selection: String?
    /// `--sky-order`: the job goes on to merge its catalogs into one sky catalog (`SkyStage`).
    public var sky: SkyStage?

    public init(jobID: String = JobDescription.makeJobID(), inputs: [InputFile], parameters: ExtractParameters,
                resume: Bool = false, partitions: Int? = nil, partitionBytes: Int64? = nil,
                settings: [String: String] = [:], pipe: PipeJob? = nil, selection: String? = nil,
                sky: SkyStage? = nil) {
        self.jobID = jobID
        self.inputs = inputs
        self.parameters = parameters
        self.resume = resume
        self.partitions = partitions
        self.partitionBytes = partitionBytes
        self.settings = settings
        self.pipe = pipe
        self.selection = selection
        self.sky = sky
    }

    /// Refuses two inputs whose outputs would have the same name (`a.fits` and `a.fz` both
    /// give `a.cat` with `{output:.cat}`), before anything runs.
    public func checkDistinctOutputs() throws {
        guard pipe != nil else { return }
        var owners: [String: String] = [:]
        for input in inputs {
            for name in outputNames(for: input) {
                if let first = owners.updateValue(input.uri, forKey: name), first != input.uri {
                    throw InputError.duplicateName(name, first: first, second: input.uri)
                }
            }
        }
    }

    /// `settings` that may leave this process (a job shipped to a master, a task shipped to an
    /// executor): the job's own keys. Secrets stay (each node finds its own credentials), and so
    /// do process-wide and local keys (an executor's SEP stack is its own, a port is the master's).
    public var shareableSettings: [String: String] {
        settings.filter { ConfigurationKeys.travels($0.key) }
    }

    /// The names an input's outputs take under the output location: its catalog, or the
    /// outputs its `--pipe` command writes.
    public func outputNames(for input: InputFile) -> [String] {
        if let pipe { return PipeRun.unique(pipe.template.outputNames(for: input.relativePath)) }
        return [parameters.format.catalogName(for: input.relativePath)]
    }

    /// Whether a key listed in the output may be one of this job's outputs (not the manifest, say).
    func mayBeOutput(_ key: String) -> Bool {
        // By bytes (the suffix is ASCII): `hasSuffix` compares Characters, once a listed key at a resume.
        pipe == nil ? key.utf8.reversed().starts(with: parameters.format.suffix.utf8.reversed()) : !key.hasPrefix("_")
    }

    /// The operator every task runs, with its parameters.
    func operatorStep() throws -> OperatorStep {
        let encoder = JSONEncoder()
        guard let pipe else { return OperatorStep(name: ExtractOperator.name, parameters: try encoder.encode(parameters)) }
        let pipeParameters = PipeParameters(output: parameters.output, template: pipe.template,
                                            workingDirectory: pipe.workingDirectory)
        return OperatorStep(name: PipeOperator.name, parameters: try encoder.encode(pipeParameters))
    }

    /// The task partitioning this spec asks for, over all its inputs.
    public func makePlan() throws -> PartitionPlan { try partitionPlan(for: inputs) }

    /// The task partitioning this spec asks for.
    func partitionPlan(for inputs: [InputFile]) throws -> PartitionPlan {
        if let partitionBytes {
            let sizes = Dictionary(inputs.map { ($0.uri, $0.size) }, uniquingKeysWith: { a, _ in a })
            return try PartitionPlan(records: inputs.map(\.uri),
                                     partitioning: .bytes(partitionBytes, size: { sizes[$0] ?? 0 }))
        }
        if let partitions { return try PartitionPlan(recordCount: inputs.count, partitioning: .count(partitions)) }
        return try PartitionPlan(recordCount: inputs.count, partitioning: .perRecord)
    }
}
