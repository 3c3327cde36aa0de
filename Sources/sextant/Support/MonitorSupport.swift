import Cluster
import Engine
import Foundation
import Monitor
import Pipeline

/// The pipeline's and the cluster's facts, in the monitor's terms.
extension InputRecord {
    init(_ entry: ManifestEntry) {
        self.init(input: entry.input, outcome: Outcome(rawValue: entry.outcome.rawValue) ?? .failed,
                  attempts: entry.attempts, rows: entry.rows, bytes: entry.bytes, seconds: entry.seconds,
                  executor: entry.executor, error: entry.error ?? entry.reason,
                  frames: entry.frames.map { $0.map { FrameRecord($0, input: entry.input) } })
    }
}

extension FrameRecord {
    init(_ row: FrameRow, input: String) {
        self.init(input: input, hdu: row.hdu, extname: row.extname, mjd: row.mjd, background: row.background,
                  rms: row.rms, sources: row.sources, fwhm: row.fwhm, depth: row.depth, depthMagnitude: row.depthMagnitude,
                  flagged: row.flagged, ra: row.ra, dec: row.dec, corners: row.corners,
                  keywords: row.keywords?.mapValues(\.description))
    }
}

enum JobMonitoring {
    /// Feeds `driver`'s events for job `spec.jobID` into `monitor`; call `ended` when it returns.
    /// `onEntry` is chained, so set the driver's own progress first.
    static func attach(_ monitor: Monitor, to driver: ExtractionDriver, spec: JobSpec, submitted: Date? = nil) {
        let id = spec.jobID
        let output = spec.absoluteOutput  // not forSubmission(): that copies every input (half a master's CPU at 10^6)
        monitor.record(.jobStart(id, inputs: spec.inputs.count, output: output, submitted: submitted))
        // Only the input's name, scanned: decoding whole entries (frame rows and all) here cost the
        // master about 8 % of its CPU per task at survey scale.
        driver.listeners.append(monitor.listener(forJob: id, inputNames: { records in
            records.compactMap(ManifestEntry.scanInput)
        }))
        let previous = driver.onEntry
        driver.onEntry = { entry in
            previous?(entry)
            monitor.record(.input(id, InputRecord(entry)))
        }
    }

    static func ended(_ monitor: Monitor, jobID: String, status: String, message: String) {
        monitor.record(.jobEnd(jobID, status: status, message: message))
    }


    /// Starts the web UI for `monitor` and says where; a UI that cannot start is a warning, not a stop.
    static func serve(_ monitor: Monitor) -> WebServer? {
        let server = WebServer(monitor: monitor)
        do {
            let url = try server.start(host: monitor.settings.host, port: monitor.settings.port)
            Console.info("sextant web UI at \(url)")
            return server
        } catch {
            Console.error("web UI not started: \(error)")
            return nil
        }
    }
}
