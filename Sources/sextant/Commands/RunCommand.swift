import ArgumentParser
import Engine
import Extraction
import Foundation
import Pipeline

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an extraction job: one catalog per input image, a manifest, a _SUCCESS marker.",
        discussion: """
        INPUT may be a FITS file, a directory (searched recursively for *.fits, *.fit, *.fts, \
        *.fits.gz, *.fz), a glob, @list.txt (one input a line), an s3://bucket/prefix, or a \
        dataset name from datasets.txt that has been generated or fetched.
        With --master local[N] (default local[*]) the job runs here on N threads; with \
        --master sextant://HOST:PORT it is submitted to a cluster and waited for.
        Exit status: 0 all inputs have catalogs, 1 some failed (see _manifest.jsonl), \
        2 the job could not start, 130 interrupted (rerun with --resume).
        """)

    @Argument(help: "Input images: files, directories, globs, @lists, s3:// prefixes, dataset names.")
    var inputs: [String] = []
    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Extraction") var extraction: ExtractionOptions
    @OptionGroup(title: "Configuration") var conf: ConfOptions
    @OptionGroup(title: "Job") var job: JobOptionsGroup
    @OptionGroup(title: "Web UI (local mode)") var ui: UIOptions
    @OptionGroup(title: "Reproducing a job") var reproduction: ReproduceOptions
    @OptionGroup(title: "Sky merge (--sky-order: merge the catalogs into one sky catalog, OUT/sky)") var sky: SkyMergeOptions

    func validate() throws {
        if reproduction.reproduce == nil, inputs.isEmpty { throw ValidationError("give at least one INPUT (or --reproduce MANIFEST)") }
        if reproduction.reproduce != nil, !inputs.isEmpty || output.format != .fits || !output.hdu.isEmpty
            || (try? extraction.parameters()) != ExtractionParameters() {
            throw ValidationError("--reproduce takes its inputs and parameters from the manifest: give only --out and job options")
        }
        if sky.order != nil, output.format == .csv || job.pipe != nil || reproduction.reproduce != nil {
            throw ValidationError("--sky-order merges FITS catalogs SEP made: not with --format csv, --pipe or --reproduce")
        }
        if sky.order != nil { _ = try sky.matchRadius() }
    }

    func run() throws {
        let configuration = try conf.configuration(flags: job.flagSettings)
        Console.bootstrapLogging(level: configuration["sextant.log.level"])
        let master = try configuration.value(of: SchedulerKeys.master)
        if let manifest = reproduction.reproduce {
            try ReproduceRun.run(manifest: manifest, allowNewer: reproduction.allowNewer, output: output.out,
                                 master: master, configuration: configuration, logEvery: job.logEvery, ui: ui)
            return
        }
        var spec: JobSpec
        do {
            spec = try job.makeSpec(inputs: inputs, output: output, extraction: extraction, configuration: configuration)
            // --sky-order: the merge is the job's second stage, its tiles under OUT/sky.
            spec.sky = try sky.order.map { try SkyStage(order: $0, matchRadius: sky.matchRadius() / 3600,
                                                        reducePartitions: sky.skyPartitions) }
        } catch {
            Console.error("\(error)")
            throw ExitCode(ExitStatus.unusable)
        }
        if job.dryRun {
            try DryRun.report(spec)
            return
        }
        if master.hasPrefix("sextant://") {
            try ClusterRun.submitAndWait(spec, master: master, configuration: configuration)
        } else {
            try LocalRun.run(spec, master: master, configuration: configuration, logEvery: job.logEvery, ui: ui)
        }
    }
}

/// `sextant run --ui`: serve the master's web UI for a local run.
struct UIOptions: ParsableArguments {
    @Flag(name: .customLong("ui"), help: "Serve the web UI, REST API and /metrics while the job runs (conf sextant.ui.host, sextant.ui.port).")
    var enabled = false
    @Option(name: .customLong("ui-port"), help: "Port for --ui (default 8080; 0 picks a free one, printed at start).")
    var port: Int?
    @Flag(name: .customLong("ui-keep"), help: "With --ui, keep serving after the job ends, until Ctrl-C.")
    var keep = false
}

/// The job flags `run` and `submit` share.
struct JobOptionsGroup: ParsableArguments {
    @Option(help: "local[N], local[*] (default), or sextant://HOST:PORT. Conf key: sextant.master.")
    var master: String?
    @Flag(help: "Skip inputs whose catalogs are already committed in the output.")
    var resume = false
    @Flag(help: "Stop the job at the first input that fails all its attempts (default: go on, report it).")
    var failFast = false
    @Option(help: "Split the inputs into N tasks (default: one input per task, which balances best).")
    var partitions: Int?
    @Option(help: "Split the inputs into tasks of about this many bytes, e.g. 256m.")
    var partitionBytes: String?
    @Flag(help: "Plan the job (list inputs, make partitions) and print the plan without running it.")
    var dryRun = false
    @Option(help: "When not on a terminal, print a progress line every N inputs (default 100).")
    var logEvery: Int = 100
    @Option(help: ArgumentHelp("Run this command once per input instead of extracting, e.g. 'source-extractor {input} -c my.sex -CATALOG_NAME {output:.cat}'. Placeholders: {input} {output} {output:SUFFIX} {name} {stem} {dir}. Split into words without a shell (quote with '...' or \"...\").", valueName: "command"))
    var pipe: String?
    @Flag(help: "Run the --pipe command with /bin/sh -c (pipes, redirections, $VARS); placeholders become quoted words.")
    var pipeShell = false
    @Option(name: .customLong("where"), help: ArgumentHelp("Run only the inputs whose header matches, e.g. 'FILTER == \"r\" && EXPTIME >= 30' (comparisons, &&, ||, !, parentheses, string and number literals); the rest are listed in the manifest as excluded, with their values.", valueName: "expression"))
    var selection: String?

    @Flag(help: "One task per image HDU for every multi-extension input, each HDU its own catalog (f.hdu3.cat.fits); sets sextant.extract.splitHDUsAbove to 1. Not with --format ldac.")
    var hduTasks = false

    var flagSettings: [String: String?] {
        ["sextant.master": master, "sextant.job.failFast": failFast ? "true" : nil,
         HDUSplitKeys.splitAbove.name: hduTasks ? "1" : nil]
    }

    func makeSpec(inputs: [String], output: OutputOptions, extraction: ExtractionOptions,
                  configuration: Configuration) throws -> JobSpec {
        let listing = try InputResolver.listing(configuration: configuration, dryRun: dryRun)
        let files = try listing.expand(inputs)
        let parameters = ExtractParameters(output: output.out, format: output.format, hdu: HDUChoice(output.hdu),
                                           extraction: try extraction.parameters())
        if hduTasks, !output.format.allowsHDUSplit {
            throw ValidationError("--hdu-tasks: --format ldac keeps every HDU of an input in its one file (as SCAMP reads it); use fits or csv")
        }
        var bytes: Int64?
        if let partitionBytes {
            guard let size = ValueParsers.size(partitionBytes) else {
                throw ValidationError("--partition-bytes: '\(partitionBytes)' is not a size like 512k, 64m or 2g")
            }
            bytes = size
        }
        var pipeJob: PipeJob?
        if let pipe {
            pipeJob = PipeJob(template: try PipeTemplate(command: pipe, shell: pipeShell),
                              workingDirectory: try PipeSettings.workingDirectory(configuration))
            _ = try PipeSettings(configuration)  // a bad timeout or variable fails here, not in every task
        } else if pipeShell {
            throw ValidationError("--pipe-shell needs --pipe")
        }
        let spec = JobSpec(inputs: files, parameters: parameters, resume: resume, partitions: partitions,
                           partitionBytes: bytes, settings: configuration.values, pipe: pipeJob,
                           selection: selection)
        if let selection {
            do { _ = try HeaderExpression(selection) } catch { throw ValidationError("\(error)") }
        }
        try spec.checkDistinctOutputs()
        return spec
    }
}
