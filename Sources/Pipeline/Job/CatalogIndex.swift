import Foundation
import Storage

/// Finds a job's input by the name of one of its outputs (its catalog, or a pipe's files), in
/// O(log N) and 16 bytes per output.
///
/// It keeps (hash of name, input index) pairs sorted by hash, not the names themselves: a
/// hash match is confirmed by recomputing that input's output names, so lookups are exact.
struct CatalogIndex: Sendable {
    private var hashes: [Int] = []
    private var indices: [Int32] = []
    private var outputCounts: [Int32] = []
    private let names: @Sendable (Int) -> [String]

    /// Indexes inputs `0..<count`, whose output names `names` gives.
    init(count: Int, names: @escaping @Sendable (Int) -> [String]) {
        self.names = names
        var pairs: [(hash: Int, index: Int32)] = []
        pairs.reserveCapacity(count)
        outputCounts.reserveCapacity(count)
        for index in 0..<count {
            let outputs = names(index)
            outputCounts.append(Int32(outputs.count))
            for name in outputs { pairs.append((name.hashValue, Int32(index))) }
        }
        pairs.sort { ($0.hash, $0.index) < ($1.hash, $1.index) }
        hashes = pairs.map(\.hash)
        indices = pairs.map(\.index)
    }

    /// The inputs that have an output named `name` (normally one).
    func inputs(named name: String) -> [Int] {
        let hash = name.hashValue
        var low = 0, high = hashes.count
        while low < high {
            let middle = (low + high) / 2
            if hashes[middle] < hash { low = middle + 1 } else { high = middle }
        }
        var found: [Int] = []
        while low < hashes.count, hashes[low] == hash {
            let index = Int(indices[low])
            if found.last != index, names(index).contains(name) { found.append(index) }
            low += 1
        }
        return found
    }

    /// For each input, the total size of its outputs when all of them are already in
    /// `output` (nil when any is missing), from one streamed listing of the keys `mayBeOutput`
    /// accepts: O(N) time, one page of listing in memory.
    func committedSizes(in output: ObjectStore, mayBeOutput: (String) -> Bool) throws -> [Int?] {
        // A few inputs into a large output (a stream's batch, a rerun of some frames): asking for
        // each name costs O(inputs), where a listing would cost O(everything already there).
        if outputCounts.count <= Self.askByNameLimit { return try committedSizesByName(in: output) }
        var sizes = [Int](repeating: 0, count: outputCounts.count)
        var found = [Int32](repeating: 0, count: outputCounts.count)
        try output.forEachObject { object in
            guard mayBeOutput(object.key) else { return }
            for index in inputs(named: object.key) {
                sizes[index] += object.size
                found[index] += 1
            }
        }
        return sizes.indices.map { found[$0] == outputCounts[$0] ? sizes[$0] : nil }
    }

    /// Up to this many inputs, `committedSizes` asks for each output by name instead of listing.
    static let askByNameLimit = 64

    private func committedSizesByName(in output: ObjectStore) throws -> [Int?] {
        try outputCounts.indices.map { index in
            var total = 0
            for name in names(index) {
                guard let size = try output.head(name)?.size else { return nil }
                total += size
            }
            return total
        }
    }
}
