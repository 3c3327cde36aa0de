import ArgumentParser
import Engine
import Foundation
import Pipeline

struct DatasetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "datasets",
        abstract: "List, generate or fetch the named datasets of datasets.txt.",
        subcommands: [List.self, Generate.self, Fetch.self, SkyFieldCommand.self])

    struct Common: ParsableArguments {
        @Option(help: "The datasets file (default: ./datasets.txt).")
        var file: String = "datasets.txt"

        func catalog() throws -> DatasetCatalog {
            do { return try DatasetCatalog(contentsOf: file) } catch {
                Console.error("\(file): \(error)")
                throw ExitCode(ExitStatus.unusable)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the datasets.")
        @OptionGroup var common: Common

        func run() throws {
            for dataset in try common.catalog().datasets {
                switch dataset.source {
                case .synthetic(let count, let recipe, let dtype):
                    let bytes = Double(count * recipe.width * recipe.height * (dtype == .int16 ? 2 : 4)) / 1e9
                    print(dataset.name.padding(toLength: 14, withPad: " ", startingAt: 0)
                          + "synthetic \(count) x \(recipe.width)x\(recipe.height) \(dtype.rawValue) "
                          + String(format: "(%.1f GB)", bytes) + "  \(dataset.description)")
                case .urlList(let path):
                    print(dataset.name.padding(toLength: 14, withPad: " ", startingAt: 0)
                          + "urls from \(path)  \(dataset.description)")
                }
            }
        }
    }

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the frames of a synthetic dataset (deterministic: same bytes on every machine).")
        @OptionGroup var common: Common
        @Argument(help: "The dataset name.")
        var name: String
        @Option(name: .shortAndLong, help: "Directory to write into (default: data/NAME, where `sextant run NAME` looks).")
        var out: String?
        @Option(help: "Write only the first N frames.")
        var count: Int?

        func run() throws {
            let dataset = try common.catalog().dataset(named: name)
            guard case .synthetic(let total, let recipe, let dtype) = dataset.source else {
                Console.error("\(name) is a URL list: use `sextant datasets fetch \(name)`")
                throw ExitCode(ExitStatus.unusable)
            }
            let directory = out ?? "data/\(name)"
            let n = min(count ?? total, total)
            let started = Date()
            try DatasetGenerator.generate(name, count: total, recipe: recipe, dtype: dtype, into: directory, range: 0..<n)
            print("generated \(n) frames of \(name) in \(directory)"
                  + String(format: " (%.1f s)", Date().timeIntervalSince(started)))
        }
    }

    struct Fetch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download the files of a URL-list dataset into a directory or an s3:// prefix.",
            discussion: """
            The list (its path is relative to the datasets file) has one `URL [SHA256]` a line. Files \
            already present (with the right checksum, when given) are skipped, so a fetch can be rerun \
            after a failure. Exit status: 0 all present, 1 some failed, 2 the list is unusable.
            """)
        @OptionGroup var common: Common
        @Argument(help: "The dataset name.")
        var name: String
        @Option(name: .shortAndLong, help: "A directory or s3://bucket/prefix (default: data/NAME).")
        var out: String?
        @Option(help: "Retries per file after the first attempt (default 4).")
        var retries: Int = 4
        @Option(help: "Seconds before the first retry, doubled for each next one (default 1).")
        var backoff: Double = 1
        @Option(help: "Files downloaded at once (default 4).")
        var parallel: Int = 4
        @OptionGroup(title: "Configuration") var conf: ConfOptions

        func run() throws {
            let dataset = try common.catalog().dataset(named: name)
            guard case .urlList(let path) = dataset.source else {
                Console.error("\(name) is synthetic: use `sextant datasets generate \(name)`")
                throw ExitCode(ExitStatus.unusable)
            }
            let listPath = DatasetCatalog.listPath(path, catalogFile: common.file)
            let files: [RemoteFile]
            let fetcher: DatasetFetcher
            do {
                let text: String
                do { text = try String(contentsOfFile: listPath, encoding: .utf8) } catch {
                    throw ValidationError("cannot read the URL list \(listPath) of \(name): build it first (see README, \"Real survey data\")")
                }
                files = try RemoteFile.parseList(text, file: listPath)
                var options = DatasetFetcher.Options()
                options.retries = max(0, retries)
                options.initialBackoff = max(0, backoff)
                options.parallel = max(1, parallel)
                fetcher = try DatasetFetcher(into: out ?? "data/\(name)", settings: try conf.configuration().values,
                                             options: options)
            } catch {
                Console.error("\(error)")
                throw ExitCode(ExitStatus.unusable)
            }
            let outcomes = fetcher.fetch(files) { outcome in
                if outcome.failed { Console.error(outcome.line) } else { print(outcome.line) }
            }
            let failed = outcomes.filter(\.failed).count
            print("fetched \(name): \(outcomes.count - failed) of \(outcomes.count) files present in \(out ?? "data/\(name)")"
                  + (failed > 0 ? ", \(failed) failed" : ""))
            if failed > 0 { throw ExitCode(ExitStatus.someFailed) }
        }
    }
}
