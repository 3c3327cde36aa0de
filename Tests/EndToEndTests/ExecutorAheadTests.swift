import Foundation
import Storage
import TestSupport
import XCTest

/// Through a real master and `sextant executor` (issue 12): the executor's worker holds its next
/// task behind the running one and fetches that task's input meanwhile, so with one input per task
/// (the default) the next input is in memory before its task starts.
final class ExecutorAheadTests: XCTestCase {
    private var cluster: ClusterHarness?

    override func tearDown() {
        cluster?.shutDown()
        super.tearDown()
    }

    /// Each task sleeps 4 s before it opens its input (SEXTANT_CHAOS_TASK_DELAY). The inputs are deleted
    /// from the store 1.5 s into the job: the running task then finds its object gone, the one held
    /// behind it in the worker extracts from the bytes fetched while the first one slept.
    func testTheTaskHeldInTheWorkerHasItsInputBeforeItStarts() throws {
        let server = try S3JobTests.sharedServer()
        let dir = try TestSupport.makeTemporaryDirectory("e2e-ahead")
        let frames = dir.appendingPathComponent("frames")
        try Sextant.generate("small", count: 2, into: frames)
        let names = try FileManager.default.contentsOfDirectory(atPath: frames.path).filter { $0.hasSuffix(".fits") }.sorted()
        XCTAssertEqual(names.count, 2)
        let store = try server.store()
        let prefix = "ahead-\(UUID().uuidString.prefix(8))"
        for name in names { try store.put("\(prefix)/\(name)", contentsOf: frames.appendingPathComponent(name)) }

        let cluster = ClusterHarness(directory: dir)
        self.cluster = cluster
        let daemons = server.environment.merging(["AWS_ENDPOINT_URL_S3": server.endpoint, "SEXTANT_TEST_OPERATORS": "1",
                                                  "SEXTANT_CHAOS_TASK_DELAY": "4"]) { _, new in new }
        try cluster.startMaster(environment: daemons)
        try cluster.startExecutor("e1", cores: 1, environment: daemons)  // one slot, one task queued
        try cluster.waitForExecutors(1)
        let out = dir.appendingPathComponent("out")
        let run = try Sextant.start(["run", "s3://\(server.bucket)/\(prefix)", "--out", out.path, "--master", cluster.masterURL,
                                     "--conf", "sextant.task.maxFailures=1"] + server.conf,
                                    logTo: dir.appendingPathComponent("run.log"),
                                    environment: cluster.environment.merging(server.environment) { _, new in new })
        try cluster.waitForLog("master", containing: "job started")
        usleep(1_500_000)
        for name in names { try store.delete("\(prefix)/\(name)") }
        XCTAssertNotNil(TestSupport.awaitExit(run, timeout: 60), "the job ends")
        let log = (try? String(contentsOf: dir.appendingPathComponent("run.log"), encoding: .utf8)) ?? ""
        let catalogs = ((try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []).filter { $0.hasSuffix(".cat.fits") }
        XCTAssertEqual(catalogs, [names[1].replacingOccurrences(of: ".fits", with: ".cat.fits")],
                       "only the task held ahead had its bytes:\n\(log)\n\(cluster.log("master"))")
    }
}
