import Foundation
import Storage

/// What a stream has settled, durable in its output (`_stream/checkpoint.json`), bounded: a
/// cursor (every name up to it is settled) and a window of settled names after it, never every
/// name forever. A name is settled once its batch is recorded: committed, failed, or skipped by
/// policy. The batch being run is written here first (`inFlight`), so a restart reruns exactly
/// it (catalogs it committed are kept, not made again) before taking anything new.
public struct StreamCheckpoint: Codable, Equatable, Sendable {
    public static let key = "_stream/checkpoint.json"
    public static let schemaVersion = 1

    public var schema = Self.schemaVersion
    public var streamID: String
    /// The watched input, so another input's stream cannot take over this output by mistake.
    public var source: String
    public var nextBatch = 1
    public var cursor: String?
    /// Settled names after `cursor`, in key (byte) order.
    public var done: [String] = []
    public var inFlight: StreamBatch?

    public init(streamID: String, source: String) {
        self.streamID = streamID
        self.source = source
    }

    /// Whether `key` needs nothing more.
    public func isDone(_ key: String) -> Bool {
        if let cursor, !Self.precedes(cursor, key) { return true }
        let index = Self.insertionIndex(of: key, in: done)
        return index < done.count && done[index] == key
    }

    /// Marks `keys` settled, then moves the cursor over the oldest names while more than `window`
    /// are kept, but never past a name still `pending` (seen, not settled): it would be lost.
    public mutating func settle(_ keys: [String], pending: [String], window: Int) {
        var merged = done
        for key in keys where !isDone(key) { merged.append(key) }
        merged.sort(by: Self.precedes)
        done = merged
        let blocker = pending.min(by: Self.precedes)
        var drop = 0
        while done.count - drop > window, blocker.map({ Self.precedes(done[drop], $0) }) ?? true { drop += 1 }
        if drop > 0 {
            cursor = done[drop - 1]
            done.removeFirst(drop)
        }
    }

    /// Key order as S3 and `LocalStore` list: by UTF-8 bytes.
    public static func precedes(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

    private static func insertionIndex(of key: String, in sorted: [String]) -> Int {
        var low = 0, high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if precedes(sorted[middle], key) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    // MARK: Storage

    public static func load(from output: ObjectStore) throws -> StreamCheckpoint? {
        guard try output.head(key) != nil else { return nil }
        let data = try output.get(key)
        do {
            let checkpoint = try JSONDecoder().decode(StreamCheckpoint.self, from: data)
            guard checkpoint.schema == schemaVersion else {
                throw StreamError.badCheckpoint(output.location(of: key).description,
                                                reason: "schema \(checkpoint.schema), this Sextant reads \(schemaVersion)")
            }
            return checkpoint
        } catch let error as DecodingError {
            throw StreamError.badCheckpoint(output.location(of: key).description, reason: "unreadable: \(error)")
        }
    }

    /// One atomic put: readers (and a restart) see the old checkpoint or the new one.
    public func save(to output: ObjectStore) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]  // dates as seconds: exact for latencies
        try output.put(Self.key, data: try encoder.encode(self))
    }
}

/// One batch: the files it runs (each with when it landed, for latency) and the files the
/// stream's policy skipped when it was made.
public struct StreamBatch: Codable, Equatable, Sendable {
    public var number: Int
    public var files: [StreamFile]
    public var skipped: [SkippedFile]

    public init(number: Int, files: [StreamFile], skipped: [SkippedFile] = []) {
        self.number = number
        self.files = files
        self.skipped = skipped
    }

    /// The key (relative name) of every file, run or skipped.
    var keys: [String] { files.map(\.input.relativePath) + skipped.map(\.key) }
}

public struct StreamFile: Codable, Equatable, Sendable {
    public var input: InputFile
    /// Its mtime or LastModified: latency and lag are measured from it.
    public var landed: Date?

    public init(input: InputFile, landed: Date?) {
        self.input = input
        self.landed = landed
    }
}

/// A file the stream did not run by design (`maxFileAge`, `order newest`), and why.
public struct SkippedFile: Codable, Equatable, Sendable {
    public var key: String
    public var reason: String

    public init(key: String, reason: String) {
        self.key = key
        self.reason = reason
    }
}

public enum StreamError: Error, CustomStringConvertible, Equatable {
    case badCheckpoint(String, reason: String)
    case otherSource(String, checkpointSource: String, given: String)
    case outputInsideInput(output: String, input: String)
    case batchIncomplete(Int, reason: String)

    public var description: String {
        switch self {
        case .badCheckpoint(let location, let reason):
            return "\(location): \(reason)"
        case .otherSource(let location, let checkpointSource, let given):
            return "\(location) is the checkpoint of a stream over \(checkpointSource), not \(given); give another --out"
        case .outputInsideInput(let output, let input):
            return "the output \(output) is inside the watched input \(input): its catalogs would be taken as new frames"
        case .batchIncomplete(let number, let reason):
            return "batch \(number) did not complete: \(reason); it runs again at the next start"
        }
    }
}
