import ArgumentParser
import Engine
import Foundation
import Pipeline

struct ExtractCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract",
        abstract: "Extract sources from images straight away: one catalog per image, no job, no manifest.",
        discussion: """
        Uses the same code as `sextant run`, so the catalogs are byte for byte the same. \
        A bad input prints one line naming the file and the reason; the other inputs still \
        get their catalogs, and the exit status is 1.
        """)

    @Argument(help: "FITS images (files, directories, globs, @lists, s3:// URIs).")
    var images: [String]
    @OptionGroup var output: OutputOptions
    @OptionGroup(title: "Extraction") var extraction: ExtractionOptions
    @OptionGroup(title: "Configuration") var conf: ConfOptions
    @Option(help: "Images extracted at once (default: all cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func run() throws {
        let configuration = try conf.configuration()
        Console.bootstrapLogging(level: configuration["sextant.log.level"])
        let files: [InputFile]
        let op: ExtractOperator
        do {
            try ExtractionDriver.applyProcessSettings(configuration.values)
            files = try InputResolver.listing(configuration: configuration).expand(images)
            op = try ExtractOperator(parameters: ExtractParameters(
                output: output.out, format: output.format, hdu: HDUChoice(output.hdu),
                extraction: try extraction.parameters()))
        } catch {
            Console.error("\(error)")
            throw ExitCode(ExitStatus.unusable)
        }

        let context = TaskContext(attemptID: TaskAttemptID(jobID: "extract", partition: 0, attempt: 0),
                                  executor: "extract", settings: configuration.values)
        let results = Locked([Result<ManifestEntry, Error>?](repeating: nil, count: files.count))
        let next = AtomicCounter()
        DispatchQueue.concurrentPerform(iterations: max(1, min(threads, files.count))) { _ in
            while case let index = next.increment(), index < files.count {
                let result = Result { try op.apply([files[index]], context: context)[0] }
                results.mutate { $0[index] = result }
            }
        }

        var failed = 0
        for (file, result) in zip(files, results.value) {
            switch result {
            case .success(let entry) where entry.outcome == .committed:
                print("\(file.uri): \(entry.rows ?? 0) sources -> \(entry.catalog ?? "")"
                      + String(format: " (%.0f ms)", (entry.seconds ?? 0) * 1000))
            case .success(let entry):
                failed += 1
                Console.error(entry.error ?? "\(file.uri): failed")
            case .failure(let error):
                failed += 1
                Console.error("\(file.uri): \(error)")
            case nil:
                failed += 1
            }
        }
        if failed > 0 { throw ExitCode(ExitStatus.someFailed) }
    }
}

/// A counter threads share to take the next index.
/// @unchecked: `lock` guards `value`.
final class AtomicCounter: @unchecked Sendable {
    private var value = -1
    private let lock = NSLock()

    func increment() -> Int {
        lock.lock(); defer { lock.unlock() }
        value += 1
        return value
    }
}
