import ArgumentParser
import Engine
import Foundation
import Pipeline

/// `sextant run --reproduce OUT/_manifest.jsonl --out NEW`.
struct ReproduceOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Run a past job again: its inputs and parameters from this _manifest.jsonl (and the _provenance.json beside it), into --out.", valueName: "manifest"))
    var reproduce: String?
    @Flag(help: "With --reproduce, run even when Sextant, libsep, CFITSIO or wcslib differ from the job's versions.")
    var allowNewer = false
}

enum ReproduceRun {
    static func run(manifest: String, allowNewer: Bool, output: String, master: String,
                    configuration: Configuration, logEvery: Int, ui: UIOptions) throws {
        let reproduction: Reproduction
        let spec: JobSpec
        do {
            let record = try JobRecord.load(manifest: manifest, settings: configuration.values)
            reproduction = Reproduction(record: record, output: output, allowNewer: allowNewer)
            spec = try reproduction.makeSpec(settings: configuration.values)
        } catch {
            Console.error("\(error)")
            throw ExitCode(ExitStatus.unusable)
        }
        var failure: Error?
        do {
            if master.hasPrefix("sextant://") {
                try ClusterRun.submitAndWait(spec, master: master, configuration: configuration)
            } else {
                try LocalRun.run(spec, master: master, configuration: configuration, logEvery: logEvery, ui: ui)
            }
        } catch let error as ExitCode where error.rawValue == ExitStatus.someFailed {
            failure = error
        }
        let written = try JobRecord.load(output: output, settings: configuration.values)
        let report = reproduction.compare(written.entries)
        print(report.summary)
        if let failure { throw failure }
        if !report.differing.isEmpty { throw ExitCode(ExitStatus.someFailed) }
    }
}
