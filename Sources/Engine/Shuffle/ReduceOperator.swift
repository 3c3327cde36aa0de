import Foundation

/// Combines two values of one key (`Dataset.reduceByKey`); must be associative and
/// commutative, since it runs on each map partition (combining before the shuffle) and
/// again on each reduce partition. Registered by name like any operator:
/// `registry.register(SumCounts.self)`.
///
/// Spell the types out (`typealias Key = String`, `typealias Value = Int`); the partition-level
/// `Input` and `Output` follow from them.
public protocol ReduceOperator: PartitionOperator
where Input == KeyValue<Key, Value>, Output == KeyValue<Key, Value> {
    associatedtype Key: Codable & Hashable
    associatedtype Value: Codable
    func reduce(_ first: Value, _ second: Value, context: TaskContext) throws -> Value
}

extension ReduceOperator {
    /// One record per key, in the order keys first appear.
    public func apply(_ inputs: [KeyValue<Key, Value>], context: TaskContext) throws -> [KeyValue<Key, Value>] {
        var slots: [Key: Int] = [:]
        var combined: [KeyValue<Key, Value>] = []
        for input in inputs {
            if let slot = slots[input.key] {
                combined[slot].value = try reduce(combined[slot].value, input.value, context: context)
            } else {
                slots[input.key] = combined.count
                combined.append(input)
            }
        }
        try context.checkCancellation()
        return combined
    }
}
