import Foundation
import Logging

/// The job table on disk: one `<job id>.json` per job under `sextant.master.historyDir`,
/// replaced atomically on every change so a crash leaves either the old or the new record.
struct JobHistory {
    let directory: URL?
    let logger: Logger

    /// Loads every record. Jobs left queued or running by a previous master become `interrupted`.
    func load() throws -> [JobRecord] {
        guard let directory else { return [] }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "json" }
        var records: [JobRecord] = []
        for file in files {
            do {
                var record = try Self.decoder.decode(JobRecord.self, from: Data(contentsOf: file))
                if !record.status.isFinished {
                    let was = record.status
                    record.status = .interrupted
                    record.finished = Date()
                    record.outcome = JobOutcome(status: .interrupted,
                                                message: "the master stopped while the job was \(was.rawValue); resubmit to resume")
                    try save(record)
                }
                records.append(record)
            } catch {
                logger.error("skipping unreadable job record \(file.path): \(error)")
            }
        }
        return records.sorted(by: JobRecord.bySubmission)
    }

    func save(_ record: JobRecord) throws {
        guard let directory else { return }
        let file = directory.appendingPathComponent("\(record.id).json")
        try Self.encoder.encode(record).write(to: file, options: .atomic)
    }

    private static let encoder = JSONCoding.encoder(pretty: true)
    private static let decoder = JSONCoding.decoder()
}
