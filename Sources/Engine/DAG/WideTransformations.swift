import Foundation

/// Transformations that move records between partitions by key. Each ends a stage: the
/// records so far are written as map outputs split by the partitioner, and the new dataset's
/// partitions are the partitioner's, each read from every map output.
///
/// Within a resulting partition records come sorted by their key's JSON encoding, the values
/// of one key in map-partition order: the same output however tasks were scheduled.
extension Dataset {
    /// The same records, each in the partition `partitioner` gives its key.
    public func partitionBy<Key, Value>(_ partitioner: Partitioner) -> Dataset<KeyValue<Key, Value>>
    where Element == KeyValue<Key, Value> {
        shuffled(by: partitioner, mapSteps: steps, grouped: false, reduceSteps: [])
    }

    /// One record per key holding all its values.
    public func groupByKey<Key, Value>(_ partitioner: Partitioner) -> Dataset<KeyValue<Key, [Value]>>
    where Element == KeyValue<Key, Value> {
        shuffled(by: partitioner, mapSteps: steps, grouped: true, reduceSteps: [])
    }

    /// The keyed records grouped by key, as `groupByKey`; each map task's reports reach the
    /// job's listener with its end (`MapSideRecord`).
    public func groupByKey<Key, Value, Report>(_ partitioner: Partitioner) -> Dataset<KeyValue<Key, [Value]>>
    where Element == MapSideRecord<Key, Value, Report> {
        shuffled(by: partitioner, mapSteps: steps, grouped: true, reduceSteps: [])
    }

    /// One record per key, its values combined by the registered `op`, on each map partition
    /// before the shuffle (so only one record per key and map partition travels) and again after.
    public func reduceByKey<Op: ReduceOperator>(_ op: Op.Type, _ parameters: Op.Parameters,
                                                partitioner: Partitioner) throws -> Dataset<KeyValue<Op.Key, Op.Value>>
    where Element == KeyValue<Op.Key, Op.Value> {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let combine = OperatorStep(name: Op.name, parameters: try encoder.encode(parameters))
        return shuffled(by: partitioner, mapSteps: steps + [combine], grouped: false, reduceSteps: [combine])
    }

    private func shuffled<Output>(by partitioner: Partitioner, mapSteps: [OperatorStep], grouped: Bool,
                                  reduceSteps: [OperatorStep]) -> Dataset<Output> {
        let dependency = ShuffleDependency(id: context.makeShuffleID(), parent: source, mapSteps: mapSteps,
                                           partitioner: partitioner, store: context.shuffleStoreToken)
        let read = ShuffleStep.ReadParameters(shuffleID: dependency.id, grouped: grouped,
                                              mapPartitions: dependency.mapPartitions, store: dependency.store)
        // swiftlint:disable:next force_try
        let readStep = OperatorStep(name: ShuffleStep.read, parameters: try! JSONEncoder().encode(read))
        return Dataset<Output>(context: context, source: Source(reducePartitionsOf: dependency),
                               steps: [readStep] + reduceSteps)
    }
}
