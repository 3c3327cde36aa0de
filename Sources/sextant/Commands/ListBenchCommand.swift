import ArgumentParser
import Foundation
import Storage

/// Lists a store location through its pages, as the driver does, and prints the count and
/// the seconds as JSON: scripts/bench/listing compares 10^4 with 10^5 objects.
struct ListBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List a directory or s3:// prefix page by page; print objects and seconds as JSON.")

    @Argument(help: "A directory or an s3:// prefix.")
    var location: String
    @Option(help: "Keys per page.")
    var pageSize = 1000
    @OptionGroup(title: "Configuration") var conf: ConfOptions

    func run() throws {
        let store = try StoreFactory.makeStore(for: location, settings: try conf.configuration().values)
        let started = Date()
        var count = 0
        try store.forEachObject(pageSize: pageSize) { _ in count += 1 }
        let seconds = Date().timeIntervalSince(started)
        print(#"{"objects": \#(count), "seconds": \#(String(format: "%.4f", seconds))}"#)
    }
}
