import Foundation
import Logging

/// What the CLI prints: results to stdout, one-line errors and logs to stderr.
enum Console {
    static func error(_ message: String) {
        FileHandle.standardError.write(Data("sextant: \(message)\n".utf8))
    }

    static func warning(_ message: String) {
        FileHandle.standardError.write(Data("sextant: warning: \(message)\n".utf8))
    }

    static func info(_ message: String) {
        FileHandle.standardError.write(Data("\(message)\n".utf8))
    }

    /// Logs go to stderr at `sextant.log.level` (trace, debug, info, notice, warning, error).
    static func bootstrapLogging(level: String?) {
        let parsed = level.flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = parsed
            return handler
        }
    }
}

/// Exit codes shared by the commands, so scripts can tell outcomes apart.
enum ExitStatus {
    static let success: Int32 = 0
    /// Some inputs failed (they are in the manifest); the rest have catalogs.
    static let someFailed: Int32 = 1
    /// The job could not start: bad arguments, unreadable inputs, unwritable output.
    static let unusable: Int32 = 2
    /// Interrupted (Ctrl-C / SIGTERM); `--resume` continues.
    static let interrupted: Int32 = 130
}
