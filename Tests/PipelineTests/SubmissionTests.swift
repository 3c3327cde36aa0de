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
