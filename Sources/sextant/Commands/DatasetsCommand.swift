import ArgumentParser
import Engine
import Foundation
import Pipeline

struct DatasetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "datasets",
        abstract: "List, generate or fetch the named datasets of datasets.txt.",
        subcommands: [List.self, Generate.self])

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
}
