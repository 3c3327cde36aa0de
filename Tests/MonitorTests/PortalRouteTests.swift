import Foundation
@testable import Monitor
import XCTest

/// A portal host in memory: two users' jobs, tokens by name, files by job.
final class FakePortal: PortalHost, @unchecked Sendable {
    var jobs: [HostJob] = []
    var owners: [String: String] = [:]
    var submitted: [(JobRequest, PortalUser)] = []
    var cancelled: [String] = []
    var catalogNames: [String] = ["a.fits", "sub/b.fits"]

    var requiresLogin: Bool { true }
    func user(forToken token: String) -> PortalUser? {
        ["alice-token-0123456789": PortalUser(name: "alice", isAdmin: false),
         "bob-token-0123456789xx": PortalUser(name: "bob", isAdmin: false),
         "carol-token-0123456789": PortalUser(name: "carol", isAdmin: true)][token]
    }
    func owner(of jobID: String) -> String? { owners[jobID] }
    func submit(_ request: JobRequest, by user: PortalUser) throws -> String {
        guard !request.inputs.isEmpty || request.uploads != nil else { throw PortalError("no inputs") }
        submitted.append((request, user))
        return request.jobID ?? "new-job"
    }
    func file(_ name: String, of jobID: String) throws -> Data? {
        name == "_manifest.jsonl" || catalogNames.contains(name) ? Data("bytes of \(name)".utf8) : nil
    }
    func catalogs(of jobID: String) throws -> [String] { catalogNames }
    func jobTable() -> [HostJob] { jobs }
    func executorTable() -> [HostExecutor] { [] }
    func cancel(jobID: String) throws { cancelled.append(jobID) }
}

final class PortalRouteTests: XCTestCase {
    private let portal = FakePortal()
    private var router: Router!

    override func setUpWithError() throws {
        let now = Date()
        portal.jobs = [HostJob(id: "alices", submitted: now, status: "running"),
                       HostJob(id: "bobs", submitted: now, status: "completedWithFailures", message: "1 failed")]
        portal.owners = ["alices": "alice", "bobs": "bob"]
        router = Router(monitor: try Monitor(settings: MonitorSettings(), host: portal))
    }

    private func call(_ path: String, as token: String?, method: String = "GET", body: String = "",
                      contentType: String? = nil, cookie: Bool = false) -> (Int, String, WebResponse) {
        let response = router.respond(to: WebRequest(
            method: method, uri: path, host: "127.0.0.1:8080",
            authorization: token.flatMap { cookie ? nil : "Bearer \($0)" },
            cookie: token.flatMap { cookie ? "other=1; sextant_session=\($0)" : nil },
            contentType: contentType, body: Data(body.utf8)))
        return (response.status, String(decoding: response.body, as: UTF8.self), response)
    }

    func testEveryJobRouteIsFilteredByUser() throws {
        XCTAssertEqual(call("/api/v1/jobs", as: nil).0, 401)
        XCTAssertEqual(call("/api/v1/jobs", as: "forged-token-0123456789").0, 401)
        XCTAssertEqual(call("/", as: nil).2.location, "/login")
        XCTAssertEqual(call("/api/v1/openapi.json", as: nil).0, 200, "the schema is public")

        let ids = { (token: String) -> [String] in
            let list = try? JSONSerialization.jsonObject(with: Data(self.call("/api/v1/jobs", as: token).1.utf8)) as? [[String: Any]]
            return (list ?? []).compactMap { $0["id"] as? String }.sorted()
        }
        XCTAssertEqual(ids("alice-token-0123456789"), ["alices"])
        XCTAssertEqual(ids("bob-token-0123456789xx"), ["bobs"])
        XCTAssertEqual(ids("carol-token-0123456789"), ["alices", "bobs"])
        for path in ["/api/v1/jobs/alices", "/api/v1/jobs/alices/tasks", "/api/v1/jobs/alices/manifest",
                     "/api/v1/jobs/alices/catalogs", "/api/v1/jobs/alices/catalogs/a.fits", "/api/v1/jobs/alices/catalogs.tar",
                     "/jobs/alices"] {
            XCTAssertEqual(call(path, as: "bob-token-0123456789xx").0, 404, path)
            XCTAssertEqual(call(path, as: "alice-token-0123456789", cookie: true).0, 200, path)
        }
        XCTAssertEqual(call("/api/v1/jobs/alices/cancel", as: "bob-token-0123456789xx", method: "POST").0, 404)
        XCTAssertEqual(call("/jobs/alices/cancel", as: "bob-token-0123456789xx", method: "POST").0, 404)
        XCTAssertEqual(portal.cancelled, [])
        XCTAssertEqual(call("/api/v1/jobs/alices/cancel", as: "alice-token-0123456789", method: "POST").0, 202)
        XCTAssertEqual(call("/jobs/bobs/cancel", as: "carol-token-0123456789", method: "POST", cookie: true).0, 303)
        XCTAssertEqual(portal.cancelled, ["alices", "bobs"])
        // A completed job with failed inputs says so, in words, not as "failed".
        let table = call("/", as: "bob-token-0123456789xx", cookie: true).1
        XCTAssertTrue(table.contains("completed with failures"), table)
    }

    func testDownloadsServeOnlyTheManifestsCatalogs() throws {
        let (status, body, response) = call("/api/v1/jobs/alices/catalogs/sub/b.fits", as: "alice-token-0123456789")
        XCTAssertEqual(status, 200)
        XCTAssertEqual(body, "bytes of sub/b.fits")
        XCTAssertEqual(response.attachment, "b.fits")
        XCTAssertEqual(call("/api/v1/jobs/alices/catalogs/secret.txt", as: "alice-token-0123456789").0, 404)
        XCTAssertEqual(call("/api/v1/jobs/alices/catalogs/../../etc/passwd", as: "alice-token-0123456789").0, 404)

        let tar = call("/api/v1/jobs/alices/catalogs.tar", as: "alice-token-0123456789").2
        var bytes = Data()
        try XCTUnwrap(tar.stream).produce { bytes.append($0) }
        XCTAssertEqual(bytes.count % 512, 0)
        XCTAssertEqual(String(decoding: bytes.prefix(15), as: UTF8.self), "alices/a.fits\0\0")
        XCTAssertTrue(bytes.suffix(1024).allSatisfy { $0 == 0 }, "two zero blocks end the archive")
        XCTAssertNotNil(bytes.range(of: Data("bytes of sub/b.fits".utf8)))
    }

    func testLoginAndSubmitFormsAndTheRESTBody() throws {
        let bad = call("/login", as: nil, method: "POST", body: "token=nope")
        XCTAssertEqual(bad.0, 401)
        let good = call("/login", as: nil, method: "POST", body: "token=alice-token-0123456789")
        XCTAssertEqual(good.2.location, "/")
        XCTAssertEqual(good.2.setCookie, "sextant_session=alice-token-0123456789; Path=/; HttpOnly; SameSite=Strict")

        let boundary = "XyZ"
        let form = [("inputs", nil, "/data/a.fits\n/data/night2\n"), ("output", nil, "/out"), ("threshold", nil, "3"),
                    ("sexConfig", "my.sex", "DETECT_THRESH 2\n"), ("uploads", "extra.fits", "SIMPLE  =  T"),
                    ("uploads", "", "")]
            .map { name, file, text in
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\""
                    + (file.map { "; filename=\"\($0)\"" } ?? "") + "\r\n\r\n\(text)\r\n"
            }.joined() + "--\(boundary)--\r\n"
        let submitted = call("/submit", as: "alice-token-0123456789", method: "POST", body: form,
                             contentType: "multipart/form-data; boundary=\(boundary)", cookie: true)
        XCTAssertEqual(submitted.0, 303, submitted.1)
        XCTAssertEqual(submitted.2.location, "/jobs/new-job")
        let (request, user) = try XCTUnwrap(portal.submitted.last)
        XCTAssertEqual(user.name, "alice")
        XCTAssertEqual(request.inputs, ["/data/a.fits", "/data/night2"])
        XCTAssertEqual(request.output, "/out")
        XCTAssertEqual(request.parameters, ["threshold": "3"])
        XCTAssertEqual(request.sexConfig, "DETECT_THRESH 2\n")
        XCTAssertEqual(request.uploads, ["extra.fits": Data("SIMPLE  =  T".utf8)])

        let rest = call("/api/v1/jobs", as: "bob-token-0123456789xx", method: "POST",
                        body: #"{"inputs": ["/x.fits"], "output": "/o", "jobID": "r1", "pool": "stream"}"#)
        XCTAssertEqual(rest.0, 201, rest.1)
        XCTAssertEqual(portal.submitted.last?.0.pool, "stream")
        XCTAssertEqual(call("/api/v1/jobs", as: "bob-token-0123456789xx", method: "POST", body: "not json").0, 400)
        XCTAssertEqual(call("/api/v1/jobs", as: "bob-token-0123456789xx", method: "POST",
                            body: #"{"inputs": [], "output": "/o"}"#).0, 400)
        // A form from another site is refused before anything else (CSRF).
        let foreign = router.respond(to: WebRequest(method: "POST", uri: "/submit", origin: "http://evil.example",
                                                    host: "127.0.0.1:8080", authorization: "Bearer alice-token-0123456789"))
        XCTAssertEqual(foreign.status, 403)
    }

    func testTheOpenAPIDocumentDescribesEveryRoute() throws {
        let document = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(OpenAPI.document.utf8)) as? [String: Any])
        XCTAssertEqual(document["openapi"] as? String, "3.0.3")
        let paths = try XCTUnwrap(document["paths"] as? [String: Any])
        for path in ["/api/v1/jobs", "/api/v1/jobs/{id}", "/api/v1/jobs/{id}/cancel", "/api/v1/jobs/{id}/manifest",
                     "/api/v1/jobs/{id}/catalogs", "/api/v1/jobs/{id}/catalogs/{name}", "/api/v1/jobs/{id}/catalogs.tar",
                     "/api/v1/jobs/{id}/log", "/api/v1/jobs/{id}/tasks", "/api/v1/executors", "/api/v1/whoami"] {
            XCTAssertNotNil(paths[path], path)
        }
    }
}
