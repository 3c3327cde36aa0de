import Foundation

/// The portal's and REST API's routes on a master (`PortalHost`): who is asking (a user's token
/// as `Authorization: Bearer`, or the session cookie the login form sets, or the UI token as an
/// admin), then every job route filtered to what that user may see. Another user's job is
/// answered as missing.
struct PortalRoutes {
    static let cookieName = "sextant_session"
    let monitor: Monitor
    let portal: PortalHost

    func respond(to request: WebRequest, parts: [String], monitorRoutes: (PortalUser) -> WebResponse) -> WebResponse {
        switch (request.method, parts) {
        case ("GET", ["login"]): return .html(PortalPages.login(error: nil))
        case ("POST", ["login"]): return login(request)
        case ("GET", ["logout"]), ("POST", ["logout"]):
            var response = WebResponse.redirect("/login")
            response.setCookie = "\(Self.cookieName)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
            return response
        case ("GET", ["api", "v1", "openapi.json"]):
            return WebResponse(status: 200, contentType: "application/json", body: Data(OpenAPI.document.utf8))
        default: break
        }
        let api = parts.first == "api"
        guard let user = user(of: request) else {
            return api ? .json(["error": "authentication required: Authorization: Bearer TOKEN (sextant users add)"], status: 401)
                : .redirect("/login")
        }
        if api { return self.api(request, Array(parts.dropFirst(2)), user: user, monitorRoutes: monitorRoutes) }
        return page(request, parts, user: user, monitorRoutes: monitorRoutes)
    }

    // MARK: Who

    func user(of request: WebRequest) -> PortalUser? {
        guard portal.requiresLogin else { return .local }
        var tokens: [String] = []
        if let authorization = request.authorization, authorization.hasPrefix("Bearer ") {
            tokens.append(String(authorization.dropFirst(7)))
        }
        if let cookie = request.cookie { tokens += CookieHeader.values(cookie, named: Self.cookieName) }
        for token in tokens where !token.isEmpty {
            if let user = portal.user(forToken: token) { return user }
            if let uiToken = monitor.settings.access.token, WebAccess.equal(token, uiToken) {
                return PortalUser(name: "admin", isAdmin: true)
            }
        }
        return nil
    }

    private func login(_ request: WebRequest) -> WebResponse {
        let token = (Form.urlEncoded(request.body)["token"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard portal.user(forToken: token) != nil
                || monitor.settings.access.token.map({ WebAccess.equal(token, $0) }) == true else {
            return .html(PortalPages.login(error: "That token is not valid (unknown, revoked or mistyped)."), status: 401)
        }
        var response = WebResponse.redirect("/")
        response.setCookie = "\(Self.cookieName)=\(token); Path=/; HttpOnly; SameSite=Strict"
        return response
    }

    private func canSee(_ id: String, _ user: PortalUser) -> Bool {
        user.isAdmin || portal.owner(of: id) == user.name
    }

    // MARK: Pages

    private func page(_ request: WebRequest, _ parts: [String], user: PortalUser,
                      monitorRoutes: (PortalUser) -> WebResponse) -> WebResponse {
        switch (request.method, parts.count, parts.first) {
        case ("GET", 0, _), ("GET", 1, "jobs"):
            return .html(PortalPages.jobs(visibleJobs(user), user: user, executors: monitor.executorSummaries()))
        case ("GET", 1, "submit"):
            return .html(PortalPages.submitForm(error: nil))
        case ("POST", 1, "submit"):
            do {
                let id = try portal.submit(try Self.jobRequest(fromForm: request), by: user)
                return .redirect("/jobs/\(HTML.pathSegment(id))")
            } catch {
                return .html(PortalPages.submitForm(error: "\(error)"), status: 400)
            }
        case (_, 2, "jobs"), (_, 3, "jobs"):
            guard canSee(parts[1], user), let detail = monitor.jobDetail(parts[1]) else {
                return .html(Pages.message("Not found", "No job '\(parts[1])'."), status: 404)
            }
            if parts.count == 2, request.method == "GET" {
                return .html(PortalPages.job(detail, tasks: monitor.tasks(of: parts[1]) ?? [],
                                             catalogs: (try? portal.catalogs(of: parts[1])) ?? []))
            }
            return monitorRoutes(user)
        case ("GET", 1, "executors"), ("GET", 1, "metrics"):
            return monitorRoutes(user)
        default:
            return .html(Pages.message("Not found", "Nothing at this address."), status: 404)
        }
    }

    private func visibleJobs(_ user: PortalUser) -> [JobSummary] {
        monitor.jobSummaries().filter { canSee($0.id, user) }
    }

    // MARK: REST

    private func api(_ request: WebRequest, _ parts: [String], user: PortalUser,
                     monitorRoutes: (PortalUser) -> WebResponse) -> WebResponse {
        switch (request.method, parts.count, parts.first) {
        case ("GET", 1, "whoami"):
            return .json(["name": user.name, "role": user.isAdmin ? "admin" : "user"])
        case ("GET", 1, "jobs"):
            return .json(visibleJobs(user))
        case ("POST", 1, "jobs"):
            return submit(request, user: user)
        case (_, 1, "jobs"):
            return .json(["error": "method \(request.method) not allowed here"], status: 405)
        case (_, _, "jobs") where parts.count >= 2:
            guard canSee(parts[1], user), monitor.jobDetail(parts[1]) != nil else {
                return .json(["error": "no job '\(parts[1])'"], status: 404)
            }
            return jobFiles(request, parts, monitorRoutes: monitorRoutes)
        default:
            return monitorRoutes(user)
        }
    }

    private func submit(_ request: WebRequest, user: PortalUser) -> WebResponse {
        let job: JobRequest
        do {
            job = try JSONDecoder().decode(JobRequest.self, from: request.body)
        } catch {
            return .json(["error": "the body must be a JobRequest JSON object (see /api/v1/openapi.json): \(error)"], status: 400)
        }
        do {
            let id = try portal.submit(job, by: user)
            return .json(["id": id], status: 201)
        } catch {
            return .json(["error": "\(error)"], status: 400)
        }
    }

    private func jobFiles(_ request: WebRequest, _ parts: [String], monitorRoutes: (PortalUser) -> WebResponse) -> WebResponse {
        let id = parts[1]
        guard request.method == "GET" || (parts.count == 3 && parts[2] == "cancel") else {
            return .json(["error": "method \(request.method) not allowed here"], status: 405)
        }
        switch parts.count == 2 ? nil : parts[2] {
        case "manifest"?:
            return download(ExtractionFiles.manifest, of: id, type: "application/x-ndjson")
        case "catalogs"? where parts.count == 3:
            do { return .json(try portal.catalogs(of: id)) } catch { return .json(["error": "\(error)"], status: 404) }
        case "catalogs"?:
            let name = parts.dropFirst(3).joined(separator: "/")
            guard (try? portal.catalogs(of: id))?.contains(name) == true else {
                return .json(["error": "job '\(id)' committed no catalog '\(name)'"], status: 404)
            }
            return download(name, of: id, type: "application/octet-stream")
        case "catalogs.tar"? where parts.count == 3:
            return tar(of: id)
        case "log"? where parts.count == 3:
            guard let file = monitor.eventLogFile(of: id), let data = try? Data(contentsOf: file) else {
                return .json(["error": "no event log for job '\(id)' (sextant.eventLog.enabled)"], status: 404)
            }
            var response = WebResponse(status: 200, contentType: "application/x-ndjson", body: data)
            response.attachment = "\(id).events.jsonl"
            return response
        default:
            return monitorRoutes(PortalUser.local)
        }
    }

    private func download(_ name: String, of id: String, type: String) -> WebResponse {
        do {
            guard let data = try portal.file(name, of: id) else {
                return .json(["error": "job '\(id)' has no \(name) yet"], status: 404)
            }
            var response = WebResponse(status: 200, contentType: type, body: data)
            response.attachment = (name as NSString).lastPathComponent
            return response
        } catch {
            return .json(["error": "cannot read \(name) of job '\(id)': \(error)"], status: 502)
        }
    }

    /// Every committed catalog of the job as one tar, streamed a catalog at a time.
    private func tar(of id: String) -> WebResponse {
        let names: [String]
        do { names = try portal.catalogs(of: id) } catch { return .json(["error": "\(error)"], status: 404) }
        let portal = self.portal
        var response = WebResponse(status: 200, contentType: "application/x-tar", body: Data())
        response.attachment = "\(id)-catalogs.tar"
        response.stream = BodyStream { write in
            for name in names {
                guard let data = try portal.file(name, of: id) else { continue }
                try write(Tar.header(name: "\(id)/\(name)", size: data.count) + data + Tar.padding(after: data.count))
            }
            try write(Tar.end)
        }
        return response
    }

    // MARK: Forms

    /// The submit form's fields (urlencoded, or multipart with .sex, .param and FITS uploads) as a JobRequest.
    static func jobRequest(fromForm request: WebRequest) throws -> JobRequest {
        var fields: [String: String] = [:]
        var uploads: [String: Data] = [:]
        if let boundary = Form.boundary(of: request.contentType) {
            for part in Form.multipart(request.body, boundary: boundary) {
                if part.name == "uploads" {
                    if let name = part.filename, !name.isEmpty, !part.data.isEmpty { uploads[name] = part.data }
                } else if part.filename != nil {
                    if !part.data.isEmpty { fields[part.name] = part.text }
                } else {
                    fields[part.name] = part.text
                }
            }
        } else {
            fields = Form.urlEncoded(request.body)
        }
        func field(_ name: String) -> String? {
            let value = fields[name]?.trimmingCharacters(in: .whitespacesAndNewlines)
            return value?.isEmpty == false ? value : nil
        }
        let inputs = (fields["inputs"] ?? "").split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !inputs.isEmpty || !uploads.isEmpty else { throw PortalError("give inputs (paths or prefixes) or upload FITS files") }
        guard let output = field("output") else { throw PortalError("give the output directory or s3:// prefix") }
        var parameters: [String: String] = [:]
        for parameter in PortalPages.parameters { if let value = field(parameter.name) { parameters[parameter.name] = value } }
        return JobRequest(inputs: inputs, output: output, jobID: field("jobID"), format: field("format"),
                          parameters: parameters.isEmpty ? nil : parameters, sexConfig: fields["sexConfig"],
                          paramFile: fields["paramFile"], pool: field("pool"), uploads: uploads.isEmpty ? nil : uploads)
    }
}

/// A message for the user: the form or the request was not usable.
public struct PortalError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The names an extraction job's output has (Pipeline's; Monitor does not import it).
enum ExtractionFiles {
    static let manifest = "_manifest.jsonl"
}
