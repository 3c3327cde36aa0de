import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An HTTP answer, whatever its status.
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names lower-cased.
    public var headers: [String: String]
    public var body: Data

    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    init(_ http: HTTPURLResponse, body: Data) {
        status = http.statusCode
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String { headers[name.lowercased()] = "\(value)" }
        }
        self.headers = headers
        self.body = body
    }

    init(status: Int, headers: [String: String], body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// The one bridge from URLSession to code that blocks its thread until the answer is in (S3
/// requests, the instance metadata service, dataset downloads): the pipeline calls stores
/// from worker threads, and URLSession runs completions on its own queue, so waiting here
/// cannot deadlock. HTTPS uses the system CA store (libcurl on Linux).
/// @unchecked: immutable; its one `URLSession` is thread-safe but not marked Sendable on Linux.
public final class BlockingHTTPClient: @unchecked Sendable {
    private let session: URLSession

    public init(timeout: Double, maxConnections: Int = 16) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.httpMaximumConnectionsPerHost = maxConnections
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.httpCookieStorage = nil
        session = URLSession(configuration: configuration)
    }

    deinit { session.finishTasksAndInvalidate() }

    /// Sends `request` and waits for the whole answer. Throws only when there is no answer
    /// (URLError: refused, dropped, timed out).
    public func send(_ request: URLRequest) throws -> HTTPResponse {
        try wait { finish in
            session.dataTask(with: request) { data, response, error in
                if let error { return finish(.failure(error)) }
                guard let http = response as? HTTPURLResponse else { return finish(.failure(URLError(.badServerResponse))) }
                finish(.success(HTTPResponse(http, body: data ?? Data())))
            }
        }
    }

    /// Downloads `url` to a temporary file of the caller's (who removes it) and waits. A non-2xx
    /// answer comes back with no file. Throws only when there is no answer.
    public func download(_ url: URL) throws -> (response: HTTPResponse, file: URL?) {
        try wait { finish in
            session.downloadTask(with: url) { location, response, error in
                if let error { return finish(.failure(error)) }
                guard let http = response as? HTTPURLResponse else { return finish(.failure(URLError(.badServerResponse))) }
                let answer = HTTPResponse(http, body: Data())
                guard (200..<300).contains(http.statusCode), let location else {
                    // The error page's file is left behind on Linux: remove it.
                    if let location { try? FileManager.default.removeItem(at: location) }
                    return finish(.success((answer, nil)))
                }
                // The file may be deleted when this handler returns: keep it.
                let kept = FileManager.default.temporaryDirectory.appendingPathComponent("sextant-download-\(UUID().uuidString)")
                do {
                    try FileManager.default.moveItem(at: location, to: kept)
                    finish(.success((answer, kept)))
                } catch {
                    finish(.failure(error))
                }
            }
        }
    }

    /// Starts the task `start` makes and blocks until its completion calls `finish`.
    private func wait<T>(_ start: (@escaping @Sendable (Result<T, Error>) -> Void) -> URLSessionTask) throws -> T {
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox<T>()
        start { result in
            box.set(result)
            done.signal()
        }.resume()
        done.wait()
        return try box.get()
    }

    /// Written by the completion handler before it signals, read after the wait (the lock makes
    /// that ordering visible to the checker too). @unchecked: `lock` guards `result`.
    private final class ResultBox<T>: @unchecked Sendable {
        private let lock = NSLock()
        private var result: Result<T, Error> = .failure(URLError(.unknown))
        func set(_ value: Result<T, Error>) { lock.withLock { result = value } }
        func get() throws -> T { try lock.withLock { result }.get() }
    }
}
