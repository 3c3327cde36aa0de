import Engine
import Foundation
import Logging
import SkyMerge
import Storage

/// `run --sky-order`: the extraction and the sky merge as one Engine job of two stages. The
/// first stage extracts each input and commits its catalog (as a plain run does, its manifest
/// entries reported to the driver), and writes the catalog's detections, keyed by tile and
/// margin, as its map output; the shuffle by tile feeds the second stage, which merges and
/// commits the tiles under `OUT/sky`. Lineage is the DAG scheduler's: a lost map output
/// recomputes only the extraction tasks that made it. With `--resume` the inputs whose catalogs
/// an earlier run committed are not extracted again: their tasks read those catalogs.
final class SkyRun: Sendable {
    let context: EngineContext
    private let driver: ExtractionDriver
    private let stage: SkyStage
    private let merge: SkyMergeSpec
    private let output: ObjectStore
    /// The tasks' settings, with the shuffle's location.
    private let settings: [String: String]
    private let temporary: URL?
    private let started = Date()
    private let frames = Locked<Frames?>(nil)
    private let result = Locked<JobResult?>(nil)

    /// The inputs the first stage reads and their frame numbers (FRAME: the rank of the catalog's
    /// name among them, as `sextant merge` numbers a finished job's catalogs).
    private struct Frames {
        var indices: [Int]
        var numbers: [Int]
        var names: [String]
    }

    init(driver: ExtractionDriver, stage: SkyStage, backend: ExecutorBackend) throws {
        let spec = driver.spec
        self.driver = driver
        self.stage = stage
        merge = SkyMergeSpec(jobID: spec.jobID, catalogs: spec.parameters.output,
                             output: SkyStage.output(under: spec.parameters.output), order: stage.order,
                             matchRadius: stage.matchRadius, reducePartitions: stage.reducePartitions)
        _ = try stage.mergeParameters.merge()  // radius against order: one error now, not one per task
        output = try StoreCache.shared.store(for: merge.output, settings: spec.settings)
        let base = driver.tasksLeaveThisProcess ? spec.shareableSettings : spec.settings
        (settings, temporary) = try ShuffleLocation.jobSettings(base, jobID: spec.jobID, skyOutput: merge.output,
                                                                underOutput: driver.tasksLeaveThisProcess)
        let registry = OperatorRegistry()
        ExtractionDriver.registerOperators(in: registry)
        context = EngineContext(backend: backend, registry: registry, settings: driver.engineSettings,
                                shuffleStore: try ShuffleLocation.store(settings: settings))
    }

    /// Runs the job over the inputs still to extract (`pending`) and those already committed.
    func run(_ pending: [Int], entries: EntryTable) throws {
        let spec = driver.spec
        var isPending = [Bool](repeating: false, count: spec.inputs.count)
        for index in pending { isPending[index] = true }
        let indices = spec.inputs.indices.filter { isPending[$0] || entries.outcome(at: $0) == .skipped }
        let names = indices.map { spec.outputNames(for: spec.inputs[$0])[0] }
        let numbers: [Int] = {
            var numbers = [Int](repeating: 0, count: indices.count)
            for (rank, position) in names.indices.sorted(by: { names[$0] < names[$1] }).enumerated() {
                numbers[position] = rank
            }
            return numbers
        }()
        frames.value = Frames(indices: indices, numbers: numbers, names: names)
        let resumed = indices.map { !isPending[$0] }
        let plan = try spec.partitionPlan(for: indices.map { spec.inputs[$0] })
        let inputs = spec.inputs
        // The reports are the entries of the partition's inputs it extracted (not those it read).
        // The DAG takes no handed-back partitions, so its extraction tasks never split a file.
        let collector = EntryCollector(spec: spec, partitions: plan.count, inputsOf: { partition in
            plan.range(of: partition).filter { !resumed[$0] }.map { indices[$0] }
        }, entries: entries, book: SplitBook(), onEntry: driver.onEntry, logger: Logger(label: "sextant.driver"))
        let options = JobOptions(listener: FirstStageOnly(jobID: spec.jobID, listener: collector),
                                 preferredLocations: { partition in
            plan.range(of: partition).map { inputs[indices[$0]].uri }.filter { !$0.contains("://") }
        })
        let sky = try context.dataset(plan: plan, of: SkyFrameInput.self) { partition in
            plan.range(of: partition).map { position in
                let frame = SkyFrameInput(input: inputs[indices[position]], frame: numbers[position],
                                          committed: resumed[position])
                return String(decoding: (try? JSONEncoder().encode(frame)) ?? Data(), as: UTF8.self)
            }
        }
        .mapPartitions(ExtractSkyTiles.self, .init(extract: spec.parameters, merge: stage.mergeParameters))
        .groupByKey(try Partitioner.hash(partitions: max(1, stage.reducePartitions ?? 8)))
        .mapPartitions(WriteSkyTiles.self, .init(output: merge.output, merge: stage.mergeParameters))
        let result = driver.track { sky.submit(settings: settings, options: options, jobID: spec.jobID) }.wait()
        collector.drain()
        self.result.value = result
        guard result.status != .succeeded else { return }
        // Inputs the stopped job never reported: why, in their entries.
        let reason = result.failureReason.map { "not run: the job stopped: \($0)" } ?? "not run: the job stopped"
        for index in indices where entries.outcome(at: index) == nil {
            let input = inputs[index]
            entries.set(ManifestEntry(input: input.uri, catalog: spec.outputNames(for: input).first, outcome: .notRun,
                                      attempts: 0, error: ManifestEntry.errorLine(input: input.uri, message: reason)),
                        at: index, input: input, outputs: spec.outputNames(for: input))
        }
    }

    /// After the manifest: the sky's index, `_merge.json` and `_SUCCESS`, and the report's sky part.
    /// A merge that failed or could not read a catalog makes the run's status say so.
    func commit(into report: inout JobReport, entries: EntryTable) throws {
        guard let result = self.result.value else { return }  // stopped before it started
        var committed: [FrameCatalogRef] = []
        if let frames = frames.value {
            for (position, index) in frames.indices.enumerated()
            where [.committed, .skipped].contains(entries.outcome(at: index)) {
                committed.append(FrameCatalogRef(index: frames.numbers[position], key: frames.names[position]))
            }
        }
        let sky = try SkyMergeDriver.commit(result, frames: committed.sorted { $0.index < $1.index }, spec: merge,
                                            to: output, started: started)
        report.sky = sky
        if sky.status != .succeeded, report.status == .succeeded || report.status == .completedWithFailures {
            report.status = sky.status == .cancelled ? .cancelled : .failed
        } else if !sky.problems.isEmpty, report.status == .succeeded {
            report.status = .completedWithFailures
        }
    }

    func finish() {
        context.stop()
        if let temporary { try? FileManager.default.removeItem(at: temporary) }
    }
}

/// Passes on only the first stage's events (`JOB.s0.ATTEMPT`): the extraction's records are
/// manifest entries, the merge's are tiles.
private final class FirstStageOnly: JobListener, Sendable {
    private let prefix: String
    private let listener: any JobListener

    init(jobID: String, listener: any JobListener) {
        prefix = "\(jobID).s0."
        self.listener = listener
    }

    func taskEnded(_ event: TaskEndEvent) {
        if event.attempt.jobID.hasPrefix(prefix) { listener.taskEnded(event) }
    }
}
