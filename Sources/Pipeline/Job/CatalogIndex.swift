import Foundation
import Storage

/// Finds a job's input by the name of its catalog, in O(log N) and 16 bytes per input.
///
/// It keeps (hash of name, input index) pairs sorted by hash, not the names themselves: a
/// hash match is confirmed by recomputing that input's catalog name, so lookups are exact.
struct CatalogIndex {
    private var hashes: [Int] = []
    private var indices: [Int32] = []
    private let name: (Int) -> String

    /// Indexes inputs `0..<count`, whose catalog names `name` gives.
    init(count: Int, name: @escaping (Int) -> String) {
        self.name = name
        var pairs = (0..<count).map { (hash: name($0).hashValue, index: Int32($0)) }
        pairs.sort { ($0.hash, $0.index) < ($1.hash, $1.index) }
        hashes = pairs.map(\.hash)
        indices = pairs.map(\.index)
    }

    /// The inputs whose catalog is `catalog` (normally one).
    func inputs(named catalog: String) -> [Int] {
        let hash = catalog.hashValue
        var low = 0, high = hashes.count
        while low < high {
            let middle = (low + high) / 2
            if hashes[middle] < hash { low = middle + 1 } else { high = middle }
        }
        var found: [Int] = []
        while low < hashes.count, hashes[low] == hash {
            let index = Int(indices[low])
            if name(index) == catalog { found.append(index) }
            low += 1
        }
        return found
    }

    /// The size of each input's catalog already in `output` (nil when absent), from one
    /// streamed listing: O(N) time, one page of listing in memory.
    func committedSizes(in output: ObjectStore, suffix: String) throws -> [Int?] {
        var sizes = [Int?](repeating: nil, count: hashes.count)
        try output.forEachObject { object in
            guard object.key.hasSuffix(suffix) else { return }
            for index in inputs(named: object.key) { sizes[index] = object.size }
        }
        return sizes
    }
}
