import Foundation
import TestSupport
import Logging

/// Keeps log lines in memory so tests can assert what was logged (and stay quiet).
/// SEXTANT_TEST_VERBOSE=1 prints them too.
final class LogRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    func logger(_ label: String) -> Logger {
        var logger = Logger(label: label) { _ in RecordingHandler(recorder: self) }
        logger.logLevel = .debug
        return logger
    }

    func append(_ line: String) {
        lock.lock(); lines.append(line); lock.unlock()
        if ProcessInfo.processInfo.environment["SEXTANT_TEST_VERBOSE"] != nil { print(line) }
    }

    var all: [String] {
        lock.lock(); defer { lock.unlock() }
        return lines
    }

    func contains(_ text: String) -> Bool { all.contains { $0.contains(text) } }

    struct RecordingHandler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
            let tags = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            recorder.append("\(event.level) \(event.message) \(tags)")
        }
    }
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: TimeInterval = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date(timeIntervalSinceNow: timeout)
    while Date() < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.01)
    }
    return condition()
}

