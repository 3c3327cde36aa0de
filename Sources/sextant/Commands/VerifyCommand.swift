import ArgumentParser
import Foundation
import Pipeline

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-extract a finished job's inputs and check every catalog is byte-identical.",
        discussion: """
        OUT is the job's output (a directory or s3:// prefix holding _manifest.jsonl and \
        _provenance.json). Each input (or --sample N of them, drawn with --seed S) is read again, \
        its SHA-256 compared with the recorded one, and its catalog made again with the recorded \
        parameters and compared byte for byte with the stored one. One line per problem, naming \
        the input. Exit status: 0 all identical, 1 some input changed or catalog differs or is \
        missing, 2 the job's record cannot be read.
        """)

    @Argument(help: "The job's output: a directory or s3://bucket/prefix.")
    var output: String
    @Option(help: "Check only N inputs, drawn at random (default: every input).")
    var sample: Int?
    @Option(help: "Seed of the --sample draw (default 0), so a check can be repeated exactly.")
    var seed: UInt64 = 0
    @Option(help: ArgumentHelp("A URL list with SHA-256s (a `urls` dataset's list in datasets.txt): each input named in it must also have the published checksum.", valueName: "file"))
    var urls: String?
    @OptionGroup(title: "Configuration") var conf: ConfOptions

    func run() throws {
        let configuration = try conf.configuration()
        Console.bootstrapLogging(level: configuration["sextant.log.level"])
        if let sample, sample < 1 { throw ValidationError("--sample must be at least 1") }
        let report: VerifyReport
        do {
            let record = try JobRecord.load(output: output, settings: configuration.values)
            let published = try urls.map { try Verifier.publishedChecksums(list: String(contentsOfFile: $0, encoding: .utf8), file: $0) } ?? [:]
            report = try Verifier(record: record, settings: configuration.values, sample: sample, seed: seed,
                                  published: published)
                .run { finding in if let finding { print(finding) } }
        } catch {
            Console.error("\(error)")
            throw ExitCode(ExitStatus.unusable)
        }
        // Lines without provenance are found before any input is read, so not printed as they come.
        for finding in report.findings where finding.kind == .noProvenance { print(finding) }
        for difference in report.softwareDifferences {
            Console.info("note: software differs from the job's: \(difference)")
        }
        print(report.summary)
        if !report.passed { throw ExitCode(ExitStatus.someFailed) }
    }
}
