import Foundation

/// How a source's records are split into partitions (one task each).
public enum Partitioning: Sendable {
    /// One record per partition: the finest grain, so the pull scheduler balances best
    /// when record costs differ (one image per task). The default.
    case perRecord
    /// `count` partitions of nearly equal record counts, in input order.
    case count(Int)
    /// Consecutive records grouped until their total size would exceed `bytes`;
    /// a record larger than `bytes` gets a partition of its own.
    case bytes(Int64, size: @Sendable (String) -> Int64)
}

/// Where each partition's records lie in the source array. Holds indices, never copies,
/// so planning a million inputs costs a few megabytes at most.
public struct PartitionPlan: Sendable {
    public let recordCount: Int
    private let layout: Layout

    private enum Layout: Sendable {
        case perRecord
        case even(partitions: Int)
        /// `starts[i]` is partition i's first record; partition i ends where i+1 starts.
        case starts([Int])
    }

    private init(recordCount: Int, layout: Layout) {
        self.recordCount = recordCount
        self.layout = layout
    }

    public init(recordCount: Int, partitioning: Partitioning) throws {
        switch partitioning {
        case .perRecord:
            self.init(recordCount: recordCount, layout: .perRecord)
        case .count(let requested):
            guard requested >= 1 else { throw PlanningError.badPartitionCount(requested) }
            self.init(recordCount: recordCount, layout: .even(partitions: min(requested, recordCount)))
        case .bytes:
            throw PlanningError.sizesNeedRecords
        }
    }

    /// Plans `records`; `.bytes` needs the records to measure them.
    public init(records: [String], partitioning: Partitioning) throws {
        guard case let .bytes(limit, size) = partitioning else {
            try self.init(recordCount: records.count, partitioning: partitioning)
            return
        }
        guard limit >= 1 else { throw PlanningError.badPartitionBytes(limit) }
        var starts: [Int] = []
        var filled: Int64 = 0
        for (index, record) in records.enumerated() {
            let bytes = max(0, size(record))
            if starts.isEmpty || (filled > 0 && filled + bytes > limit) {
                starts.append(index)
                filled = 0
            }
            filled += bytes
        }
        self.init(recordCount: records.count, layout: .starts(starts))
    }

    public var count: Int {
        switch layout {
        case .perRecord: return recordCount
        case .even(let partitions): return partitions
        case .starts(let starts): return starts.count
        }
    }

    /// The indices of partition `index`'s records in the source array.
    public func range(of index: Int) -> Range<Int> {
        precondition(index >= 0 && index < count, "partition \(index) out of 0..<\(count)")
        switch layout {
        case .perRecord:
            return index..<(index + 1)
        case .even(let partitions):
            // Balanced split: sizes differ by at most one record.
            return (index * recordCount / partitions)..<((index + 1) * recordCount / partitions)
        case .starts(let starts):
            return starts[index]..<(index + 1 < starts.count ? starts[index + 1] : recordCount)
        }
    }
}

public enum PlanningError: Error, CustomStringConvertible, Equatable {
    case badPartitionCount(Int)
    case badPartitionBytes(Int64)
    case sizesNeedRecords

    public var description: String {
        switch self {
        case .badPartitionCount(let n): return "partitions must be at least 1, got \(n)"
        case .badPartitionBytes(let n): return "partition size must be at least 1 byte, got \(n)"
        case .sizesNeedRecords: return "partitioning by size needs the records to measure"
        }
    }
}
