import Engine
import Foundation
import Pipeline
import TestSupport

/// Small generated frames and deliberately broken inputs for pipeline tests.
enum PipelineFixtures {
    /// `count` 512x512 frames from the `small` recipe, written into `directory`.
    static func frames(_ count: Int, in directory: URL, seed: UInt64 = 7) throws -> [String] {
        try DatasetGenerator.generate("frame", count: count, recipe: FrameRecipe(width: 512, height: 512, seed: seed),
                                      dtype: .float32, into: directory.path)
    }

    /// Inputs that must each end as a reported failure, keyed by what is wrong with them.
    static func badInputs(in directory: URL, goodFrame: String) throws -> [String: String] {
        let fm = FileManager.default
        var bad: [String: String] = [:]
        bad["missing"] = directory.appendingPathComponent("missing.fits").path

        let notFITS = directory.appendingPathComponent("notes.fits")
        try Data("these are not pixels\n".utf8).write(to: notFITS)
        bad["not FITS"] = notFITS.path

        let truncated = directory.appendingPathComponent("truncated.fits")
        let whole = try Data(contentsOf: URL(fileURLWithPath: goodFrame))
        try whole.prefix(whole.count / 3).write(to: truncated)
        bad["truncated"] = truncated.path

        let empty = directory.appendingPathComponent("empty.fits")
        fm.createFile(atPath: empty.path, contents: Data())
        bad["empty"] = empty.path

        let allNaN = directory.appendingPathComponent("nan.fits")
        try FITSImageWriterShim.writeFloat(width: 64, height: 64, value: .nan, to: allNaN.path)
        bad["all NaN"] = allNaN.path
        return bad
    }

    static func runLocal(_ spec: JobSpec, slots: Int = 2, settings: EngineSettings = EngineSettings(),
                         registry: OperatorRegistry? = nil) throws -> JobReport {
        let registry = registry ?? {
            let registry = OperatorRegistry()
            ExtractionDriver.registerOperators(in: registry)
            return registry
        }()
        let driver = ExtractionDriver(spec: spec, engineSettings: settings)
        return try driver.run(backend: LocalBackend(registry: registry, slots: slots))
    }

    static func manifest(in directory: URL) throws -> [ManifestEntry] {
        try ManifestEntry.decodeLines(Data(contentsOf: directory.appendingPathComponent("_manifest.jsonl")))
    }
}

