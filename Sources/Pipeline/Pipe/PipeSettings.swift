import Engine
import Foundation

/// The conf keys a pipe task reads from its job's settings. Which programs may run is not
/// among them: that is the executor's own `sextant.pipe.allowedCommands` (`PipePolicy`).
public struct PipeSettings: Sendable, Equatable {
    public static let timeoutKey = PipeKeys.timeout.name
    public static let workingDirectoryKey = PipeKeys.workingDirectory.name
    /// `sextant.pipe.env.NAME value` adds NAME=value to the program's environment.
    public static let environmentPrefix = PipeKeys.environment.familyPrefix!

    /// Seconds one input's program may run before its process group is killed; 0: no limit.
    public var timeout = PipeKeys.timeout.defaultValue
    /// Variables added to (or replacing those of) the executor's own environment.
    public var environment: [String: String] = [:]

    public init() {}

    public init(_ configuration: Configuration) throws {
        timeout = try configuration.value(of: PipeKeys.timeout)
        for (key, value) in configuration.values where key.hasPrefix(Self.environmentPrefix) {
            let name = String(key.dropFirst(Self.environmentPrefix.count))
            guard !name.isEmpty, !name.contains("=") else {
                throw ConfigurationError.badValue(key: key, value: value, expected: "sextant.pipe.env.NAME with a variable NAME")
            }
            environment[name] = value
        }
    }

    /// The directory the program runs in: `sextant.pipe.workDir`, else `fallback` (where the
    /// user started `sextant run` or `submit`), made absolute so it means the same on every node.
    public static func workingDirectory(_ configuration: Configuration,
                                        fallback: String = FileManager.default.currentDirectoryPath) -> String {
        let directory = configuration[workingDirectoryKey].map { NSString(string: $0).expandingTildeInPath } ?? fallback
        return URL(fileURLWithPath: directory, relativeTo: URL(fileURLWithPath: fallback, isDirectory: true))
            .standardizedFileURL.path
    }
}
