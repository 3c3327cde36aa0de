import Engine
import Foundation

/// What a pipe task reads from its job's settings (`PipeKeys`). Which programs may run is not
/// among them: that is the executor's own `sextant.pipe.allowedCommands` (`PipePolicy`).
public struct PipeSettings: Sendable, Equatable {
    /// Seconds one input's program may run before its process group is killed; 0: no limit.
    public var timeout: TimeInterval = PipeKeys.timeout.defaultValue
    /// Variables added to (or replacing those of) the executor's own environment.
    public var environment: [String: String] = [:]

    public init() {}

    public init(_ configuration: Configuration) throws {
        timeout = try configuration.value(of: PipeKeys.timeout)
        for pair in try configuration.value(of: PipeKeys.environment) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw ConfigurationError.badValue(key: PipeKeys.environment.name, value: pair, expected: "NAME=value pairs")
            }
            environment[String(parts[0])] = String(parts[1])
        }
    }

    /// The directory the program runs in: `sextant.pipe.workDir`, else `fallback` (where the
    /// user started `sextant run` or `submit`), made absolute so it means the same on every node.
    public static func workingDirectory(_ configuration: Configuration,
                                        fallback: String = FileManager.default.currentDirectoryPath) throws -> String {
        let directory = try configuration.value(of: PipeKeys.workingDirectory)
            .map { NSString(string: $0).expandingTildeInPath } ?? fallback
        return URL(fileURLWithPath: directory, relativeTo: URL(fileURLWithPath: fallback, isDirectory: true))
            .standardizedFileURL.path
    }
}
