import Engine
import Foundation

/// A job's trip to a master: what a client sends (`submissionPayload`) and how the master turns
/// what it received back into a driver (`ExtractionDriver.forSubmission`).
extension JobSpec {
    /// The spec as a client sends it: local paths made absolute (executors open them on the
    /// shared file system, not relative to the client's directory) and only the settings that
    /// may leave this process (`shareableSettings`: no secrets, no process-wide or local keys).
    public func forSubmission() -> JobSpec {
        var shipped = self
        shipped.inputs = inputs.map { input in
            var absolute = input
            absolute.uri = Self.absolute(input.uri)
            return absolute
        }
        shipped.parameters.output = Self.absolute(parameters.output)
        shipped.settings = shareableSettings
        return shipped
    }

    /// `forSubmission()`, encoded as the master expects it.
    public func submissionPayload() throws -> Data { try JSONEncoder().encode(forSubmission()) }

    static func absolute(_ location: String) -> String {
        location.contains("://") ? location : URL(fileURLWithPath: location).standardizedFileURL.path
    }
}

extension ExtractionDriver {
    /// The driver of a job a master received: the client's spec under the master's job id,
    /// resumed when the job was re-queued after a master restart (the catalogs the cut-off run
    /// committed are kept), the master's own settings filling what the job left out (its S3
    /// credentials, its limits) while the host's keys stay the master's (`HostSettings`), its
    /// tasks sent to other processes. Also returns the host keys the job tried to set, for a warning.
    public static func forSubmission(payload: Data, jobID: String, resumed: Bool,
                                     masterSettings: [String: String]) throws -> (driver: ExtractionDriver, ignored: [String]) {
        var spec = try JSONDecoder().decode(JobSpec.self, from: payload)
        spec.jobID = jobID
        if resumed { spec.resume = true }
        let (settings, ignored) = HostSettings.merge(host: masterSettings, job: spec.settings)
        spec.settings = settings
        let driver = ExtractionDriver(spec: spec, engineSettings: try EngineSettings(Configuration(spec.settings)))
        driver.tasksLeaveThisProcess = true
        return (driver, ignored)
    }
}

extension JobReport {
    /// The job's status as a master records it: the driver's, or `cancelled` when the master
    /// cancelled it.
    public func jobStatus(cancelled: Bool = false) -> JobStatus {
        cancelled ? .cancelled : status
    }

    /// The counts a master keeps in the job's record (shown by `sextant status`).
    public var counts: [String: Int] {
        ["inputs": inputs, "committed": committed, "skipped": skipped, "failed": failed, "sources": sources]
    }
}
