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
        shipped.parameters.output = absoluteOutput
        shipped.settings = shareableSettings
        return shipped
    }

    /// `forSubmission()`, encoded as the master expects it: `payloadMagic`, the spec without its
    /// inputs as one line of JSON, then the inputs as raw lines (`lineBytes`), so neither side
    /// writes or parses JSON per input. When a name holds a tab or a newline (never a valid
    /// input; the driver refuses it with its reason) the whole spec is JSON, as `JobSpec` encodes it.
    public func submissionPayload() throws -> Data {
        let shipped = forSubmission()
        guard let lines = Self.lineBytes(of: shipped.inputs) else { return try JSONEncoder().encode(shipped) }
        var header = shipped
        header.inputs = []
        var payload = Data(Self.payloadMagic.utf8)
        payload.append(try JSONEncoder().encode(header))  // one line: JSON escapes every newline in a string
        payload.append(10)
        payload.append(lines)
        return payload
    }

    /// What a submission payload of the line form starts with (a JSON payload starts with `{`).
    static let payloadMagic = "SEXTANT-JOB 1\n"

    /// A spec from `submissionPayload()`'s bytes, either form.
    public static func decodeSubmission(_ payload: Data) throws -> JobSpec {
        let magic = Data(payloadMagic.utf8)
        guard payload.starts(with: magic) else { return try JSONDecoder().decode(JobSpec.self, from: payload) }
        let body = payload.dropFirst(magic.count)
        guard let newline = body.firstIndex(of: 10) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "the job's payload ends inside its header"))
        }
        var spec = try JSONDecoder().decode(JobSpec.self, from: body[..<newline])
        spec.inputs = try payload[(newline + 1)...].withUnsafeBytes { try inputs(fromLineBytes: $0) }
        return spec
    }

    /// The output as submitted: a local path made absolute, a URI as it is.
    public var absoluteOutput: String { Self.absolute(parameters.output) }

    static func absolute(_ location: String) -> String {
        if isStandardAbsolute(location) || InputListing.hasScheme(location) { return location }
        return URL(fileURLWithPath: location).standardizedFileURL.path
    }

    /// Already what `standardizedFileURL.path` would give: absolute, no empty, `.` or `..` segment,
    /// no trailing `/`. Most listed paths are, and this saves a URL (and a stat) an input.
    static func isStandardAbsolute(_ path: String) -> Bool {
        let utf8 = path.utf8
        guard utf8.first == UInt8(ascii: "/"), utf8.count > 1 else { return false }
        var segment = 0  // bytes of the segment so far
        var dots = 0
        for byte in utf8.dropFirst() {
            if byte == UInt8(ascii: "/") {
                if segment == 0 || segment == dots && dots <= 2 { return false }
                segment = 0
                dots = 0
            } else {
                segment += 1
                if byte == UInt8(ascii: ".") { dots += 1 }
            }
        }
        return segment > 0 && !(segment == dots && dots <= 2)
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
        var spec = try JobSpec.decodeSubmission(payload)
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
