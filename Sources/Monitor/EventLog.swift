import Foundation
import Engine
import Logging

/// Per-job event logs: `<dir>/<job id>.jsonl`, one `MonitorEvent` a line, appended as events
/// happen so a crash loses at most the lines being written.
///
/// Writes run on the log's own serial queue, in the order events came: whoever records an
/// event (the scheduler's queue, an event loop) never waits for a disk. `@unchecked Sendable`:
/// `handles` is touched only on `writer`.
final class EventLog: @unchecked Sendable {
    let directory: URL
    private let logger: Logger
    private let writer = DispatchQueue(label: "sextant.monitor.event-log")
    private var handles: [String: FileHandle] = [:]
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601withFractions
        return encoder
    }()

    init(directory: URL, logger: Logger) throws {
        self.directory = directory
        self.logger = logger
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw ConfigurationError.badValue(key: MonitorKeys.eventLogDirectory.name, value: directory.path,
                                              expected: "a directory that can be created (\(error.localizedDescription))")
        }
    }

    func file(for job: String) -> URL {
        let safe = String(job.map { $0.isLetter || $0.isNumber || "._-".contains($0) ? $0 : "_" })
        return directory.appendingPathComponent("\(safe).jsonl")
    }

    /// Queues `event` to be appended; a write error is logged, never thrown at the scheduler.
    func append(_ event: MonitorEvent) {
        writer.async { self.write(event) }
    }

    /// Waits until every queued event is written.
    func flush() { writer.sync {} }

    private func write(_ event: MonitorEvent) {
        do {
            let handle = try handle(for: event.job)
            var line = try encoder.encode(event)
            line.append(UInt8(ascii: "\n"))
            try handle.write(contentsOf: line)
            if event.event == .jobEnd {
                try? handle.close()
                handles[event.job] = nil
            }
        } catch {
            logger.warning("event log \(file(for: event.job).path): \(error)")
        }
    }

    /// Writes what is queued, then closes every file.
    func closeAll() {
        writer.sync {
            for handle in handles.values { try? handle.close() }
            handles = [:]
        }
    }

    private func handle(for job: String) throws -> FileHandle {
        if let handle = handles[job] { return handle }
        let url = file(for: job)
        if !FileManager.default.fileExists(atPath: url.path) {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: url.path])
            }
        }
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        handles[job] = handle
        return handle
    }

    /// Every event of every log in the directory, file by file. Unreadable lines are skipped with a warning.
    func readAll() -> [[MonitorEvent]] {
        flush()
        let files = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? []
        return files.filter { $0.pathExtension == "jsonl" }.sorted { $0.path < $1.path }.map { Self.read($0, logger: logger) }
    }

    static func read(_ file: URL, logger: Logger) -> [MonitorEvent] {
        guard let data = try? Data(contentsOf: file) else { return [] }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601withFractions
        let lines = data.split(separator: UInt8(ascii: "\n"))
        // One decode of the whole file as an array is several times faster than one per line;
        // a damaged line (a crash mid-write) falls back to line by line.
        var array = Data("[".utf8)
        for (index, line) in lines.enumerated() {
            if index > 0 { array.append(UInt8(ascii: ",")) }
            array.append(contentsOf: line)
        }
        array.append(UInt8(ascii: "]"))
        if let events = try? decoder.decode([MonitorEvent].self, from: array) { return events }
        var events: [MonitorEvent] = []
        for (number, line) in lines.enumerated() {
            do {
                events.append(try decoder.decode(MonitorEvent.self, from: Data(line)))
            } catch {
                logger.warning("\(file.path):\(number + 1): skipping unreadable event: \(error)")
            }
        }
        return events
    }
}

extension JSONEncoder.DateEncodingStrategy {
    /// ISO 8601 with milliseconds, UTC.
    static let iso8601withFractions = JSONEncoder.DateEncodingStrategy.custom { date, encoder in
        var container = encoder.singleValueContainer()
        try container.encode(DateText.format(date))
    }
}

extension JSONDecoder.DateDecodingStrategy {
    static let iso8601withFractions = JSONDecoder.DateDecodingStrategy.custom { decoder in
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let date = DateText.parse(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an ISO 8601 date: \(text)")
        }
        return date
    }
}

enum DateText {
    private static let lock = NSLock()
    // Formatters are used only under `lock`.
    nonisolated(unsafe) private static let formatter: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()
    nonisolated(unsafe) private static let plain = ISO8601DateFormatter()

    static func format(_ date: Date) -> String {
        lock.lock(); defer { lock.unlock() }
        return formatter.string(from: date)
    }

    static func parse(_ text: String) -> Date? {
        lock.lock(); defer { lock.unlock() }
        return formatter.date(from: text) ?? plain.date(from: text)
    }
}
