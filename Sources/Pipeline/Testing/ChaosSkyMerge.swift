import Engine
import Foundation
import SkyMerge

/// Fault injection in the sky merge, for its real-process fault tests: registered only with the
/// test operators (`TestOperators`), in place of the merge's own steps, which they run.
/// `SEXTANT_CHAOS_SKY=ACTION:MARKER` does ACTION once across every process of the job (the first
/// to create MARKER does it):
/// - `kill-map`: map partition 3 (of `merge` or of `run --sky-order`) aborts its process (a worker or executor holding map outputs dies);
/// - `kill-reduce`: reduce partition 1 aborts its process;
/// - `delete-map-output`: reduce partition 0 deletes map partition 0's outputs from the shuffle
///   directory, so later reducers cannot fetch them.
/// `SEXTANT_CHAOS_TASK_DELAY=SECONDS` makes each map and reduce task take at least that long, so
/// the tasks spread over every worker and a fault can land mid-stage.
enum ChaosSky {
    static let variable = "SEXTANT_CHAOS_SKY"

    static func fire(_ action: String) -> Bool {
        guard let setting = ProcessInfo.processInfo.environment[variable],
              let colon = setting.firstIndex(of: ":"), setting[..<colon] == action else { return false }
        let marker = String(setting[setting.index(after: colon)...])
        let fd = open(marker, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { return false }
        close(fd)
        return true
    }

    static let delay = ProcessInfo.processInfo.environment["SEXTANT_CHAOS_TASK_DELAY"].flatMap(Double.init)
}

struct ChaosCatalogTiles: PartitionOperator {
    typealias Input = String
    typealias Output = KeyValue<Int64, Detection>
    typealias Parameters = CatalogTiles.Parameters
    static let name = CatalogTiles.name
    private let base: CatalogTiles

    init(parameters: Parameters) throws { base = try CatalogTiles(parameters: parameters) }

    func apply(_ inputs: [String], context: TaskContext) throws -> [KeyValue<Int64, Detection>] {
        if let delay = ChaosSky.delay { Thread.sleep(forTimeInterval: delay) }
        if context.attemptID.partition == 3, ChaosSky.fire("kill-map") { abort() }
        return try base.apply(inputs, context: context)
    }
}

/// `run --sky-order`'s first stage, with the same `kill-map` and delay.
struct ChaosExtractSkyTiles: PartitionOperator {
    typealias Input = SkyFrameInput
    typealias Output = ExtractSkyTiles.Output
    typealias Parameters = ExtractSkyTiles.Parameters
    static let name = ExtractSkyTiles.name
    private let base: ExtractSkyTiles

    init(parameters: Parameters) throws { base = try ExtractSkyTiles(parameters: parameters) }

    func apply(_ inputs: [SkyFrameInput], context: TaskContext) throws -> [Output] {
        if let delay = ChaosSky.delay { Thread.sleep(forTimeInterval: delay) }
        if context.attemptID.partition == 3, ChaosSky.fire("kill-map") { abort() }
        return try base.apply(inputs, context: context)
    }
}

struct ChaosWriteSkyTiles: PartitionOperator {
    typealias Input = KeyValue<Int64, [Detection]>
    typealias Output = SkyTileRecord
    typealias Parameters = WriteSkyTiles.Parameters
    static let name = WriteSkyTiles.name
    private let base: WriteSkyTiles

    init(parameters: Parameters) throws { base = try WriteSkyTiles(parameters: parameters) }

    func apply(_ tiles: [KeyValue<Int64, [Detection]>], context: TaskContext) throws -> [SkyTileRecord] {
        if let delay = ChaosSky.delay { Thread.sleep(forTimeInterval: delay) }
        if context.attemptID.partition == 1, ChaosSky.fire("kill-reduce") { abort() }
        if context.attemptID.partition == 0, let location = context.settings[SkyMergeKeys.shuffleLocation.name],
           ChaosSky.fire("delete-map-output") {
            let files = FileManager.default.enumerator(atPath: location)
            while let file = files?.nextObject() as? String {
                guard (file as NSString).lastPathComponent.hasPrefix("map-0-") else { continue }
                try? FileManager.default.removeItem(atPath: location + "/" + file)
            }
        }
        return try base.apply(tiles, context: context)
    }
}
