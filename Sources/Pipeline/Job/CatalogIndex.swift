import Foundation
import Storage

/// Finds a job's input by the name of one of its outputs (its catalog, or a pipe's files), in
/// O(1) and about 20 bytes per output.
///
/// It keeps (hash of name, input index) pairs sorted by hash, not the names themselves, and the
/// first position of each run of hashes with the same top bits (`buckets`, about one an output):
/// a lookup reads one bucket of one or two pairs, where a binary search over 10^6 hashes missed
/// the cache some 20 times (the names come in listing order, their hashes in none). A hash match
/// is confirmed by recomputing that input's output names, so lookups are exact.
struct CatalogIndex: Sendable {
    private var hashes: [UInt] = []
    private var indices: [Int32] = []
    private var outputCounts: [Int32] = []
    /// `buckets[b]..<buckets[b + 1]`: the positions whose hash has `b` in its top bits.
    private var buckets: [Int32] = []
    private var shift: UInt = 63
    private let names: @Sendable (Int) -> [String]

    /// Indexes inputs `0..<count`, whose output names `names` gives.
    init(count: Int, names: @escaping @Sendable (Int) -> [String]) {
        self.names = names
        var pairs: [(hash: UInt, index: Int32)] = []
        pairs.reserveCapacity(count)
        outputCounts.reserveCapacity(count)
        for index in 0..<count {
            let outputs = names(index)
            outputCounts.append(Int32(outputs.count))
            for name in outputs { pairs.append((UInt(bitPattern: name.hashValue), Int32(index))) }
        }
        pairs.sort { ($0.hash, $0.index) < ($1.hash, $1.index) }
        hashes = pairs.map(\.hash)
        indices = pairs.map(\.index)
        // 2^bits buckets, bits = floor(log2(outputs)): one or two pairs a bucket.
        let bits = max(1, min(30, Int.bitWidth - 1 - max(pairs.count, 1).leadingZeroBitCount))
        shift = UInt(UInt.bitWidth - bits)
        buckets.reserveCapacity((1 << bits) + 1)
        var position = 0
        for bucket in 0...(1 << bits) {
            while position < hashes.count, Int(hashes[position] >> shift) < bucket { position += 1 }
            buckets.append(Int32(position))
        }
    }

    /// The inputs that have an output named `name` (normally one).
    func inputs(named name: String) -> [Int] {
        var found: [Int] = []
        forEachInput(named: name) { found.append($0) }
        return found
    }

    /// Calls `body` with each input that has an output named `name`, in index order, without
    /// making an array (twice an input at a resume).
    func forEachInput(named name: String, _ body: (Int) throws -> Void) rethrows {
        let hash = UInt(bitPattern: name.hashValue)
        let bucket = Int(hash >> shift)
        var position = Int(buckets[bucket])
        let end = Int(buckets[bucket + 1])
        while position < end, hashes[position] < hash { position += 1 }
        var last = -1
        while position < end, hashes[position] == hash {
            let index = Int(indices[position])
            if last != index, names(index).contains(name) {
                try body(index)
                last = index
            }
            position += 1
        }
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
            forEachInput(named: object.key) { index in
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
