import Foundation

/// An HTTP request as the router sees it.
public struct WebRequest: Sendable {
    public var method: String
    /// The path without the query, percent-decoded segment by segment.
    public var path: String
    /// The `Origin` and `Host` headers: a browser's POST from another site is refused.
    public var origin: String?
    public var host: String?
    /// `Authorization` and `Cookie`: who is asking, on a portal (`PortalHost`).
    public var authorization: String?
    public var cookie: String?
    public var contentType: String?
    public var body: Data
    /// The query's `name=value` pairs, percent-decoded (the last of a repeated name wins).
    public var query: [String: String] = [:]

    public init(method: String, uri: String, origin: String? = nil, host: String? = nil,
                authorization: String? = nil, cookie: String? = nil, contentType: String? = nil, body: Data = Data()) {
        self.method = method.uppercased()
        self.origin = origin
        self.host = host
        self.authorization = authorization
        self.cookie = cookie
        self.contentType = contentType
        self.body = body
        let halves = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let raw = halves.first.map(String.init) ?? "/"
        path = raw.removingPercentEncoding ?? raw
        for pair in halves.dropFirst().first?.split(separator: "&") ?? [] {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            query[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
    }
}

public struct WebResponse: Sendable, Equatable {
    public var status: Int
    public var contentType: String
    public var body: Data
    public var location: String?
    public var setCookie: String?
    /// A download's file name (`Content-Disposition: attachment`).
    public var attachment: String?
    /// A body too large to hold: written in chunks as `stream` produces them (the tar of a job's catalogs).
    public var stream: BodyStream?

    public static func == (a: WebResponse, b: WebResponse) -> Bool {
        (a.status, a.contentType, a.body, a.location, a.setCookie, a.attachment)
            == (b.status, b.contentType, b.body, b.location, b.setCookie, b.attachment) && (a.stream == nil) == (b.stream == nil)
    }

    static func html(_ text: String, status: Int = 200) -> WebResponse {
        WebResponse(status: status, contentType: "text/html; charset=utf-8", body: Data(text.utf8))
    }

    static func json<T: Encodable>(_ value: T, status: Int = 200) -> WebResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601withFractions
        let body = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return WebResponse(status: status, contentType: "application/json", body: body + Data("\n".utf8))
    }

    static func redirect(_ location: String) -> WebResponse {
        WebResponse(status: 303, contentType: "text/plain", body: Data("see \(location)\n".utf8), location: location)
    }
}

/// Maps requests to pages, API answers and metrics. No network here, so tests call it directly.
public struct Router: Sendable {
    let monitor: Monitor

    public init(monitor: Monitor) { self.monitor = monitor }

    public func respond(to request: WebRequest) -> WebResponse {
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        if request.method == "POST", let origin = request.origin, !Self.sameSite(origin, host: request.host) {
            // A page on another site must not cancel jobs through a user's browser (CSRF).
            return .html(Pages.message("Refused", "A request from \(origin) may not change anything here."), status: 403)
        }
        if let portal = monitor.portal {
            return PortalRoutes(monitor: monitor, portal: portal).respond(to: request, parts: parts) { user in
                self.legacy(request, parts)
            }
        }
        return legacy(request, parts)
    }

    /// The monitor's own pages and API (a local run's UI, and a portal's read-only routes).
    func legacy(_ request: WebRequest, _ parts: [String]) -> WebResponse {
        switch (request.method, parts.first) {
        case (_, "api"): return api(request.method, Array(parts.dropFirst()), query: request.query)
        case ("GET", "metrics") where parts.count == 1:
            return WebResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8",
                               body: Data(monitor.metricsText().utf8))
        default: return page(request.method, parts)
        }
    }

    private func page(_ method: String, _ parts: [String]) -> WebResponse {
        switch (method, parts.count, parts.first) {
        case ("GET", 0, _), ("GET", 1, "jobs"):
            return .html(Pages.jobs(monitor.jobSummaries(), executors: monitor.executorSummaries()))
        case ("GET", 1, "executors"):
            return .html(Pages.executors(monitor.executorSummaries()))
        case ("GET", 1, "streams"):
            return .html(Pages.streams(monitor.streamViews()))
        case ("GET", 2, "jobs"):
            guard let detail = monitor.jobDetail(parts[1]) else {
                return .html(Pages.message("Not found", "No job '\(parts[1])'."), status: 404)
            }
            return .html(Pages.job(detail))
        case ("GET", 3, "jobs") where parts[2] == "frames":
            guard let frames = monitor.frames(of: parts[1]) else {
                return .html(Pages.message("Not found", "No job '\(parts[1])'."), status: 404)
            }
            return .html(FramePages.frames(frames, finished: monitor.jobDetail(parts[1])?.job.isFinished ?? true))
        case ("POST", 3, "jobs") where parts[2] == "cancel":
            do {
                try monitor.cancel(parts[1])
                return .redirect("/jobs/\(HTML.pathSegment(parts[1]))")
            } catch {
                return .html(Pages.message("Cannot cancel", "\(error)"), status: Self.status(for: error))
            }
        default:
            return .html(Pages.message("Not found", "Nothing at this address."), status: 404)
        }
    }

    private func api(_ method: String, _ parts: [String], query: [String: String]) -> WebResponse {
        guard parts.first == "v1" else { return notFound("use /api/v1") }
        let parts = Array(parts.dropFirst())
        switch (method, parts.count, parts.first) {
        case ("GET", 1, "jobs"):
            return .json(monitor.jobSummaries())
        case ("GET", 2, "jobs"):
            guard let detail = monitor.jobDetail(parts[1]) else { return notFound("no job '\(parts[1])'") }
            return .json(detail)
        case ("GET", 3, "jobs") where parts[2] == "tasks":
            // Paginated: ?offset=N&limit=M over the attempts kept (running, then the latest ended).
            var page: [String: Int] = ["offset": 0, "limit": Int.max]
            for name in page.keys {
                guard let text = query[name] else { continue }
                guard let value = Int(text), value >= 0 else {
                    return .json(["error": "\(name) must be a whole number >= 0, not '\(text.prefix(40))'"], status: 400)
                }
                page[name] = value
            }
            guard let tasks = monitor.tasks(of: parts[1], offset: page["offset"]!, limit: page["limit"]!) else {
                return notFound("no job '\(parts[1])'")
            }
            return .json(tasks)
        case ("GET", 3, "jobs") where parts[2] == "frames":
            guard let frames = monitor.frames(of: parts[1]) else { return notFound("no job '\(parts[1])'") }
            return .json(frames)
        case ("POST", 3, "jobs") where parts[2] == "cancel":
            do {
                try monitor.cancel(parts[1])
                return .json(["cancelling": parts[1]], status: 202)
            } catch {
                return .json(["error": "\(error)"], status: Self.status(for: error))
            }
        case ("GET", 1, "executors"):
            return .json(monitor.executorSummaries())
        case ("GET", 1, "streams"):
            return .json(monitor.streamViews())
        case (_, _, "jobs"), (_, 1, "executors"):
            return .json(["error": "method \(method) not allowed here"], status: 405)
        default:
            return notFound("no such API path")
        }
    }

    /// True when `origin` (scheme://host[:port]) names the server the request was sent to.
    static func sameSite(_ origin: String, host: String?) -> Bool {
        guard let host, let url = URL(string: origin), let originHost = url.host else { return false }
        let originAuthority = url.port.map { "\(originHost):\($0)" } ?? originHost
        return originAuthority.lowercased() == host.lowercased()
    }

    func notFound(_ message: String) -> WebResponse {
        .json(["error": message], status: 404)
    }

    static func status(for error: Error) -> Int {
        switch error as? MonitorError {
        case .noSuchJob: return 404
        case .cannotCancel: return 409
        default: return 500
        }
    }
}
