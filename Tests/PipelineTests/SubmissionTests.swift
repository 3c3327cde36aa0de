import Engine
import Foundation
import Pipeline
import XCTest

final class SubmissionTests: XCTestCase {
    func testAClientShipsAbsolutePathsAndOnlyTheSettingsThatTravel() throws {
        let spec = JobSpec(inputs: [InputFile(uri: "raw/a.fits", relativePath: "a.fits"),
                                    InputFile(uri: "s3://survey/b.fits", relativePath: "b.fits")],
                           parameters: ExtractParameters(output: "out"),
                           settings: ["sextant.task.maxFailures": "2", "sextant.s3.partSize": "8m",
                                      "sextant.s3.endpoint": "http://127.0.0.1:9000", "sextant.s3.secretKey": "hunter2", "sextant.authenticate.secret": "s3cr3t",
                                      "sextant.extraction.pixstack": "900000", "sextant.master.port": "7078"])
        let shipped = spec.forSubmission()
        let cwd = FileManager.default.currentDirectoryPath
        XCTAssertEqual(shipped.inputs.map(\.uri), [cwd + "/raw/a.fits", "s3://survey/b.fits"])
        XCTAssertEqual(shipped.parameters.output, cwd + "/out")
        XCTAssertEqual(shipped.settings, ["sextant.task.maxFailures": "2", "sextant.s3.partSize": "8m"],
                       "no secret, no process-wide or local key, not where the executor's credentials go")
        let payload = String(decoding: try spec.submissionPayload(), as: UTF8.self)
        XCTAssertFalse(payload.contains("hunter2") || payload.contains("s3cr3t"), "no secret in the payload")
    }

    func testAMasterRunsTheSpecUnderItsIDWithItsOwnSettingsUnderTheJobs() throws {
        let spec = JobSpec(jobID: "client-id", inputs: [], parameters: ExtractParameters(output: "/tmp/out"),
                           settings: ["sextant.task.maxFailures": "2"])
        let (driver, ignored) = try ExtractionDriver.forSubmission(
            payload: try spec.submissionPayload(), jobID: "job-7", resumed: true,
            masterSettings: ["sextant.task.maxFailures": "9", "sextant.speculation": "true"])
        XCTAssertEqual(ignored, [])
        XCTAssertEqual(driver.spec.jobID, "job-7")
        XCTAssertTrue(driver.spec.resume, "a re-queued job keeps what its cut-off run committed")
        XCTAssertEqual(driver.engineSettings.maxFailures, 2, "the job's value wins")
        XCTAssertTrue(driver.engineSettings.speculation, "the master's fills what the job left out")
        XCTAssertTrue(driver.tasksLeaveThisProcess)
        XCTAssertThrowsError(try ExtractionDriver.forSubmission(payload: Data("{}".utf8), jobID: "x", resumed: false,
                                                                masterSettings: [:]))
    }

    /// The payload is a header line of JSON and the inputs as raw lines; every input comes back
    /// byte for byte (unicode, spaces, sizes); a name with a tab or newline makes the whole spec
    /// JSON (its array form), which the master decodes too and the driver then refuses.
    func testTheSubmissionPayloadCarriesEveryInputExactly() throws {
        var inputs = (0..<5000).map { InputFile(uri: "/survey/d\($0 / 100)/f \($0).fits.gz", relativePath: "d\($0 / 100)/f \($0).fits.gz",
                                                size: Int64($0) * 1360) }
        inputs += [InputFile(uri: "/données/étoile-ü.fits", relativePath: "étoile-ü.fits", size: 0),
                   InputFile(uri: "s3://bucket/日本/星.fits.fz", relativePath: "日本/星.fits.fz", size: Int64.max / 2),
                   InputFile(uri: "/quote\"and\\back.fits", relativePath: "quote\"and\\back.fits", size: 7)]
        let spec = JobSpec(jobID: "j", inputs: inputs, parameters: ExtractParameters(output: "/out"), resume: true,
                           partitions: 7, settings: ["sextant.task.maxFailures": "3"], selection: "FILTER == \"r\"")
        let payload = try spec.submissionPayload()
        XCTAssertTrue(payload.starts(with: Data("SEXTANT-JOB 1\n".utf8)), "the line form")
        XCTAssertLessThan(payload.count, try JSONEncoder().encode(spec).count, "no larger than the JSON form")
        let back = try JobSpec.decodeSubmission(payload)
        XCTAssertEqual(back, spec.forSubmission())
        XCTAssertEqual(back.inputs, inputs)

        var odd = spec
        odd.inputs = [InputFile(uri: "/in/a\tb.fits", relativePath: "a\tb.fits", size: 1),
                      InputFile(uri: "/in/c\nd.fits", relativePath: "c\nd.fits", size: 2)]
        let oddPayload = try odd.submissionPayload()
        XCTAssertEqual(oddPayload.first, UInt8(ascii: "{"), "JSON, the array form")
        XCTAssertEqual(try JobSpec.decodeSubmission(oddPayload).inputs, odd.inputs)
        let (driver, _) = try ExtractionDriver.forSubmission(payload: oddPayload, jobID: "odd", resumed: false, masterSettings: [:])
        XCTAssertThrowsError(try InputNames.validate(driver.spec.inputs)) { error in
            XCTAssertTrue("\(error)".contains("control character U+0009"), "\(error)")
        }

        // A broken line names its place; a payload cut inside its header says so.
        var broken = Data("SEXTANT-JOB 1\n".utf8)
        var header = spec.forSubmission()
        header.inputs = []
        broken.append(try JSONEncoder().encode(header))
        broken.append(Data("\n/in/a.fits\ta.fits\t1\n/in/b.fits\tb.fits\n".utf8))
        XCTAssertThrowsError(try JobSpec.decodeSubmission(broken)) { error in
            XCTAssertTrue("\(error)".contains("input 2: not 'uri TAB relativePath TAB size'"), "\(error)")
        }
        XCTAssertThrowsError(try JobSpec.decodeSubmission(Data("SEXTANT-JOB 1\n{\"jobID\"".utf8))) { error in
            XCTAssertTrue("\(error)".contains("ends inside its header"), "\(error)")
        }
    }

    /// The fast path that skips a URL per input gives what `standardizedFileURL.path` gives.
    func testAbsolutePathsAreStandardizedAsFoundationDoes() {
        let cwd = FileManager.default.currentDirectoryPath
        for path in ["/a/b.fits", "/a//b.fits", "/a/./b.fits", "/a/../b.fits", "/a/b/", "/a/...fits", "/a/.hidden.fits",
                     "/a/..b.fits", "/a/b/..", "/a/b/.", "/", "rel/x.fits", "./x.fits", "../x.fits", "/ü/é.fits", "x"] {
            let expected = URL(fileURLWithPath: path).standardizedFileURL.path
            var spec = JobSpec(inputs: [InputFile(uri: path, relativePath: "x.fits")], parameters: ExtractParameters(output: "/o"))
            spec = spec.forSubmission()
            XCTAssertEqual(spec.inputs[0].uri, expected, "\(path) (cwd \(cwd))")
        }
    }

    func testReportStatusesAsAMasterRecordsThem() throws {
        var report = try JSONDecoder().decode(JobReport.self, from: Data("""
            {"jobID": "j", "status": "succeeded", "inputs": 3, "committed": 2, "skipped": 1, "failed": 0,
             "sources": 10, "seconds": 1, "output": "/o", "failures": []}
            """.utf8))
        XCTAssertEqual(report.jobStatus(), .succeeded)
        XCTAssertEqual(report.jobStatus(cancelled: true), .cancelled)
        report.status = .completedWithFailures
        XCTAssertEqual(report.jobStatus(), .completedWithFailures, "24 of 25 committed is not a failed job")
        report.status = .failed
        XCTAssertEqual(report.jobStatus(), .failed, "stopped early by fail-fast")
        report.status = .cancelled
        XCTAssertEqual(report.jobStatus(), .cancelled)
        XCTAssertEqual(report.counts, ["inputs": 3, "committed": 2, "skipped": 1, "failed": 0, "sources": 10])
    }
}
