import Foundation

/// A wide dependency: the records of a parent lineage (its source and narrow steps), split
/// by `partitioner` into map outputs. The DAG scheduler cuts stages here; the child dataset's
/// source is this shuffle's reduce partitions.
final class ShuffleDependency: Sendable {
    let id: String
    /// The map side: the parent's source and steps up to (not including) the shuffle write.
    let parent: Source
    let mapSteps: [OperatorStep]
    let partitioner: Partitioner
    /// The driver context's store token (`InProcessShuffleStores`).
    let store: String?
    /// Whether its map outputs carry binary values (`ShuffleBinaryValue`); nil until first written.
    let binaryValues = Locked<Bool?>(nil)

    init(id: String, parent: Source, mapSteps: [OperatorStep], partitioner: Partitioner, store: String?) {
        self.id = id
        self.parent = parent
        self.mapSteps = mapSteps
        self.partitioner = partitioner
        self.store = store
    }

    var mapPartitions: Int { parent.plan.count }

    /// The map stage's steps: the parent's, then the shuffle write.
    func mapStageSteps(binaryValues: Bool) throws -> [OperatorStep] {
        let write = ShuffleStep.WriteParameters(shuffleID: id, partitioner: partitioner, store: store,
                                                binaryValues: binaryValues)
        return mapSteps + [OperatorStep(name: ShuffleStep.write, parameters: try JSONEncoder().encode(write))]
    }

    /// The shuffles this one's map stage reads, nearest first.
    var ancestors: [ShuffleDependency] {
        var chain: [ShuffleDependency] = []
        var next = parent.shuffle
        while let dependency = next {
            chain.append(dependency)
            next = dependency.parent.shuffle
        }
        return chain
    }
}

extension Source {
    /// The source of a shuffle's reduce side: one record per reduce partition, its index,
    /// which the shuffle-read step takes as its input.
    convenience init(reducePartitionsOf shuffle: ShuffleDependency) {
        let count = shuffle.partitioner.partitions
        // swiftlint:disable:next force_try
        self.init(records: (0..<count).map(String.init),
                  plan: try! PartitionPlan(recordCount: count, partitioning: .perRecord), shuffle: shuffle)
    }

    /// How this source came about, for `Dataset.lineage`.
    var lineage: String {
        guard let shuffle else { return "source(\(recordCount) records, \(plan.count) partitions)" }
        let parent = ([shuffle.parent.lineage] + shuffle.mapSteps.map(\.name)).joined(separator: " -> ")
        return "\(parent) => shuffle \(shuffle.id) by \(shuffle.partitioner)"
    }
}

/// Steps that name a shuffle read's published map locations when its stage launches.
extension Array where Element == OperatorStep {
    /// `publish` returns the name of the shuffle's published location table, or nil when
    /// some of its map outputs are missing.
    func resolvingShuffleReads(_ publish: (String) throws -> String?) throws -> [OperatorStep]? {
        var resolved: [OperatorStep] = []
        for step in self {
            guard step.name == ShuffleStep.read else { resolved.append(step); continue }
            var parameters = try JSONDecoder().decode(ShuffleStep.ReadParameters.self, from: step.parameters)
            guard let name = try publish(parameters.shuffleID) else { return nil }
            parameters.locations = name
            resolved.append(OperatorStep(name: step.name, parameters: try JSONEncoder().encode(parameters)))
        }
        return resolved
    }
}
