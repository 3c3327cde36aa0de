import ArgumentParser
import Engine
import Foundation

/// Spark-style configuration: conf/sextant-defaults.conf, then --conf key=value, then flags.
struct ConfOptions: ParsableArguments {
    @Option(name: .customLong("conf"), parsing: .unconditionalSingleValue,
            help: ArgumentHelp("Set a configuration key (repeatable), e.g. --conf sextant.task.maxFailures=2.", valueName: "key=value"))
    var pairs: [String] = []

    @Option(help: "Defaults file (`key value` lines). Default: $SEXTANT_CONF_DIR/sextant-defaults.conf, else ./conf/sextant-defaults.conf when present.")
    var propertiesFile: String?

    /// The defaults file in force, if any.
    var defaultsFile: URL? {
        if let propertiesFile { return URL(fileURLWithPath: propertiesFile) }
        var candidates: [String] = []
        if let dir = ProcessInfo.processInfo.environment["SEXTANT_CONF_DIR"] {
            candidates.append(dir + "/sextant-defaults.conf")
        }
        candidates.append("conf/sextant-defaults.conf")
        return candidates.first { FileManager.default.fileExists(atPath: $0) }.map { URL(fileURLWithPath: $0) }
    }

    /// The layered configuration, with `flags` (already-decided flag values) on top. Keys that
    /// no module declares are warned about on stderr, with the nearest known key.
    func configuration(flags: [String: String?] = [:]) throws -> Configuration {
        let configuration = try Configuration.layered(defaultsFile: defaultsFile, confPairs: pairs, flags: flags)
        for warning in configuration.unknownKeyWarnings() { Console.warning(warning) }
        return configuration
    }
}
