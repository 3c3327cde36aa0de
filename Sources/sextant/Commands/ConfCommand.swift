import ArgumentParser
import Engine

/// `sextant conf keys`: every configuration key, from the declarations (README's table is its
/// `--markdown` output, kept equal by a test).
struct ConfCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conf", abstract: "Show the configuration keys.", subcommands: [Keys.self])

    struct Keys: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List every configuration key with its type, default and meaning.")
        @Flag(help: "Print the README's Markdown table.")
        var markdown = false

        func run() {
            if markdown {
                print(KeyTable.markdown(), terminator: "")
                return
            }
            for key in ConfigurationKeys.all {
                let scope = key.processWide ? " (executor's own)" : key.secret ? " (secret)" : ""
                print("\(key.name)  \(key.type.rawValue)  default \(key.documentedDefault)\(scope)")
            }
        }
    }
}
