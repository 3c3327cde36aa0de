import Foundation

/// The two built-in steps of a shuffle. The map stage's last step writes the partition's
/// records, split by the partitioner, as one map output; the reduce stage's first step
/// fetches its segment of every map output. Both are registered by name like any operator
/// (`OperatorRegistry.registerShuffleOperators(store:)`), so they run on any executor that
/// registers them with its store.
enum ShuffleStep {
    static let write = "sextant.shuffle.write"
    static let read = "sextant.shuffle.read"

    struct WriteParameters: Codable {
        var shuffleID: String
        var partitioner: Partitioner
        /// The driver context's store, when the task runs in its process (`InProcessShuffleStores`).
        var store: String?
        /// Values that are `ShuffleBinaryValue` travel as binary: set by the DAG scheduler when
        /// the reading stage decodes them in a step of its own.
        var binaryValues: Bool?
    }

    struct ReadParameters: Codable {
        var shuffleID: String
        /// Consecutive records of one key become one record whose value is the list of values.
        var grouped: Bool
        /// The shuffle's map partition count, so a read never runs without every location.
        var mapPartitions: Int
        var store: String?
        /// The published table (`ShuffleStore.published`) of where each map partition's
        /// registered output is; set by the DAG scheduler when it launches the stage (a step in
        /// a dataset's lineage has none yet).
        var locations: String?
    }
}

/// Where one map partition's output lives: which attempt wrote it, on which executor.
struct MapLocation: Codable, Hashable {
    var executor: ExecutorID
    var attempt: String
}

/// What a map task reports: the shuffle-write step's one output record.
struct MapStatus: Codable {
    var mapPartition: Int
    var attempt: String
    var records: Int
    var bytes: Int
}

/// A reduce task could not fetch some map outputs. Its message carries a marker the driver
/// parses back (`FetchFailure(message:)`), so it survives the trip as a task failure's text.
public struct FetchFailure: Error, CustomStringConvertible, Equatable {
    public var shuffleID: String
    /// The map outputs that could not be fetched (every one the reducer needed, not just the first).
    public var outputs: [MapOutputID]
    public var reason: String

    public var description: String {
        let maps = outputs.map { "\($0.mapPartition)@\($0.attempt)" }.joined(separator: ",")
        return "fetch failed: \(outputs.count) map output(s) of \(shuffleID) missing (first: \(reason)) "
            + "\(Self.marker)\(shuffleID) \(maps)]"
    }

    private static let marker = "[fetch-failed "

    public init(shuffleID: String, outputs: [MapOutputID], reason: String) {
        self.shuffleID = shuffleID
        self.outputs = outputs
        self.reason = reason
    }

    /// The fetch failure described in a task failure's message, if it is one.
    public init?(message: String) {
        guard let start = message.range(of: Self.marker, options: .backwards),
              let end = message[start.upperBound...].firstIndex(of: "]") else { return nil }
        let fields = message[start.upperBound..<end].split(separator: " ")
        guard fields.count == 2 else { return nil }
        let shuffleID = String(fields[0])
        var outputs: [MapOutputID] = []
        for item in fields[1].split(separator: ",") {
            guard let at = item.firstIndex(of: "@"), let map = Int(item[..<at]) else { return nil }
            outputs.append(MapOutputID(shuffleID: shuffleID, mapPartition: map,
                                       attempt: String(item[item.index(after: at)...])))
        }
        self.init(shuffleID: shuffleID, outputs: outputs, reason: String(message[..<start.lowerBound]))
    }
}

extension OperatorRegistry {
    /// Registers the shuffle's write and read steps over `store`. `EngineContext` does it for
    /// its own registry; an executor process that runs shuffle tasks must do it with its store.
    public func registerShuffleOperators(store: ShuffleStore) {
        registerShuffleOperators { _ in store }
    }

    /// The same, with the store each task uses chosen from its context: an executor process
    /// that serves many jobs finds each job's store in its settings (Pipeline's `ShuffleLocation`).
    public func registerShuffleOperators(storeFor: @escaping @Sendable (TaskContext) throws -> ShuffleStore) {
        weak let registry = self
        // The map status first, then the reports (`MapSideRecord.report`), already JSON.
        add(AnyOperatorRunner(name: ShuffleStep.write, inputType: Any.self, outputType: MapStatus.self,
                              encode: { try $0.map { try ($0 as? Data) ?? JSONEncoder().encode($0 as! MapStatus) } }) {
            records, parameterData, context in
            let parameters = try OperatorRegistry.decodeParameters(ShuffleStep.WriteParameters.self,
                                                                   from: parameterData, operator: ShuffleStep.write)
            let target = try InProcessShuffleStores.shared.store(for: parameters.store) ?? storeFor(context)
            let locate = try parameters.partitioner.locator(in: registry)
            let (status, reports) = try ShuffleWriter(store: target, parameters: parameters, locate: locate)
                .write(records, context: context)
            return [status] + reports
        })
        add(AnyOperatorRunner(name: ShuffleStep.read, inputType: String.self, outputType: ShuffledRecord.self,
                              encode: { try $0.map { try ($0 as! ShuffledRecord).json() } }) {
            records, parameterData, context in
            let parameters = try OperatorRegistry.decodeParameters(ShuffleStep.ReadParameters.self,
                                                                   from: parameterData, operator: ShuffleStep.read)
            let partitions = try OperatorRegistry.cast(records, to: String.self, operator: ShuffleStep.read)
            let target = try InProcessShuffleStores.shared.store(for: parameters.store) ?? storeFor(context)
            let reader = ShuffleReader(store: target, parameters: parameters)
            return try partitions.flatMap { partition -> [ShuffledRecord] in
                guard let index = Int(partition) else {
                    throw OperatorError.inputTypeMismatch(operator: ShuffleStep.read, expected: "a reduce partition",
                                                          found: partition.debugDescription)
                }
                return try reader.read(reducePartition: index, context: context)
            }
        })
    }
}

/// Segment format: per record, a little-endian UInt32 key length, the key's JSON, a UInt32
/// value length whose top bit says the value is binary (`ShuffleBinaryValue`), the value.
struct ShuffleWriter {
    let store: ShuffleStore
    let parameters: ShuffleStep.WriteParameters
    /// Key JSON to reduce partition (`Partitioner.locator`).
    let locate: (Data) throws -> Int

    /// The map status, and the reports (JSON) the records carried for the driver.
    func write(_ records: [Any], context: TaskContext) throws -> (MapStatus, [Data]) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let partitioner = parameters.partitioner
        var segments = Array(repeating: Data(), count: partitioner.partitions)
        var reports: [Data] = []
        for record in records {
            guard let writable = record as? ShuffleWritable else {
                throw OperatorError.inputTypeMismatch(operator: ShuffleStep.write, expected: "KeyValue records",
                                                      found: "\(type(of: record))")
            }
            switch try writable.shuffleEntry(encoder, binary: parameters.binaryValues ?? false) {
            case let .keyed(key, value, binary):
                let reduce = try locate(key)
                Self.append(key, to: &segments[reduce])
                Self.append(value, to: &segments[reduce], flag: binary ? Self.binaryFlag : 0)
            case .report(let report):
                reports.append(report)
            }
        }
        try context.checkCancellation()
        let id = MapOutputID(shuffleID: parameters.shuffleID, mapPartition: context.attemptID.partition,
                             attempt: context.attemptID.shuffleTag)
        try store.writeMapOutput(id, segments: segments, on: context.executor)
        let status = MapStatus(mapPartition: id.mapPartition, attempt: id.attempt, records: records.count - reports.count,
                               bytes: segments.reduce(0) { $0 + $1.count })
        return (status, reports)
    }

    static let binaryFlag: UInt32 = 0x8000_0000

    private static func append(_ field: Data, to segment: inout Data, flag: UInt32 = 0) {
        withUnsafeBytes(of: (UInt32(field.count) | flag).littleEndian) { segment.append(contentsOf: $0) }
        segment.append(field)
    }
}

struct ShuffleReader {
    let store: ShuffleStore
    let parameters: ShuffleStep.ReadParameters

    /// Fetches the partition's segment of every map output, in map order; reports every
    /// output it could not fetch in one `FetchFailure`. Records come out sorted by key
    /// (by its JSON bytes), equal keys in map order, so the result is the same however
    /// the map tasks were scheduled.
    func read(reducePartition: Int, context: TaskContext) throws -> [ShuffledRecord] {
        let maps = try parameters.locations.map { try PublishedLocations.shared.locations($0, in: store) } ?? []
        guard maps.count == parameters.mapPartitions else {
            throw ShuffleReadUnresolved(shuffleID: parameters.shuffleID, expected: parameters.mapPartitions,
                                        got: maps.count)
        }
        var records: [ShuffledRecord] = []
        var missing: [MapOutputID] = []
        var firstReason = ""
        for (map, location) in maps.enumerated() {
            try context.checkCancellation()
            let id = MapOutputID(shuffleID: parameters.shuffleID, mapPartition: map, attempt: location.attempt)
            do {
                let segment = try store.readSegment(id, reducePartition: reducePartition,
                                                    writtenBy: location.executor)
                if missing.isEmpty { records += try Self.parse(segment, of: id) }
            } catch let error as ShuffleFetchError {
                if missing.isEmpty { firstReason = error.description }
                missing.append(id)
            }
        }
        if !missing.isEmpty {
            throw FetchFailure(shuffleID: parameters.shuffleID, outputs: missing, reason: firstReason)
        }
        let order = records.indices.sorted { a, b in
            records[a].key == records[b].key ? a < b : records[a].key.lexicographicallyPrecedes(records[b].key)
        }
        let sorted = order.map { records[$0] }
        return parameters.grouped ? try Self.group(sorted) : sorted
    }

    /// Runs of one key become `{"key":K,"value":[V1,V2,…]}`, or, binary, the count then the values
    /// (an array's `ShuffleBinaryValue` form).
    static func group(_ sorted: [ShuffledRecord]) throws -> [ShuffledRecord] {
        var groups: [ShuffledRecord] = []
        var start = 0
        while start < sorted.count {
            var end = start + 1
            while end < sorted.count && sorted[end].key == sorted[start].key { end += 1 }
            let binary = sorted[start].binary
            var list: Data
            if binary {
                var count = ShuffleBinaryWriter()
                count.write(end - start)
                list = Data(count.bytes)
            } else {
                list = Data("[".utf8)
            }
            for index in start..<end {
                guard sorted[index].binary == binary else { throw ShuffleBinaryNotJSON() }
                if index > start && !binary { list.append(UInt8(ascii: ",")) }
                list.append(sorted[index].value)
            }
            if !binary { list.append(UInt8(ascii: "]")) }
            groups.append(ShuffledRecord(key: sorted[start].key, value: list, binary: binary))
            start = end
        }
        return groups
    }

    static func parse(_ segment: Data, of id: MapOutputID) throws -> [ShuffledRecord] {
        let bytes = [UInt8](segment)
        var records: [ShuffledRecord] = []
        var offset = 0
        var binary = false
        func field() throws -> Data {
            guard offset + 4 <= bytes.count else { throw ShuffleFetchError(output: id, reason: "segment is truncated") }
            let word = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
            binary = word & ShuffleWriter.binaryFlag != 0
            let length = Int(word & ~ShuffleWriter.binaryFlag)
            offset += 4
            guard offset + length <= bytes.count else {
                throw ShuffleFetchError(output: id, reason: "segment is truncated")
            }
            defer { offset += length }
            return Data(bytes[offset..<(offset + length)])
        }
        while offset < bytes.count {
            let key = try field()
            let value = try field()
            records.append(ShuffledRecord(key: key, value: value, binary: binary))
        }
        return records
    }
}

/// A shuffle read ran without its map locations: its job was not launched by the DAG scheduler
/// (`Dataset.job()` describes narrow lineages only).
struct ShuffleReadUnresolved: Error, CustomStringConvertible {
    var shuffleID: String
    var expected: Int
    var got: Int

    var description: String {
        "the read of \(shuffleID) was given \(got) of its \(expected) map output locations: "
            + "a dataset with shuffles runs through save(), collect(), count() or submit(), not job()"
    }
}

/// The location tables this process has fetched, by name (one per stage attempt, so a name
/// never changes meaning); the last few are kept, so a stage's tasks on one executor fetch
/// and decode its table once.
/// @unchecked: `lock` guards `tables`.
final class PublishedLocations: @unchecked Sendable {
    static let shared = PublishedLocations()
    private var tables: [(name: String, maps: [MapLocation])] = []
    private let lock = NSLock()
    private let kept = 8

    func locations(_ name: String, in store: ShuffleStore) throws -> [MapLocation] {
        lock.lock()
        if let hit = tables.first(where: { $0.name == name }) { lock.unlock(); return hit.maps }
        lock.unlock()
        let maps = try JSONDecoder().decode([MapLocation].self, from: store.published(name))
        lock.lock()
        tables.append((name, maps))
        if tables.count > kept { tables.removeFirst(tables.count - kept) }
        lock.unlock()
        return maps
    }
}

/// The shuffle stores of this process's `EngineContext`s, by token. A registry has one pair of
/// shuffle steps; when two contexts share it, a task names its context's store by token and
/// runs against that one. A task from another process (its token unknown here) uses the store
/// its executor registered the steps with.
/// @unchecked: `lock` guards `stores`.
final class InProcessShuffleStores: @unchecked Sendable {
    static let shared = InProcessShuffleStores()
    private struct Entry { weak var store: (any ShuffleStore)? }
    private var stores: [String: Entry] = [:]
    private let lock = NSLock()

    func add(_ store: ShuffleStore) -> String {
        let token = UUID().uuidString
        lock.lock(); defer { lock.unlock() }
        stores[token] = Entry(store: store)
        return token
    }

    func store(for token: String?) -> ShuffleStore? {
        guard let token else { return nil }
        lock.lock(); defer { lock.unlock() }
        return stores[token]?.store
    }

    func remove(_ token: String) {
        lock.lock(); defer { lock.unlock() }
        stores[token] = nil
    }
}
