import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An HTTP answer, whatever its status.
struct HTTPResponse {
    var status: Int
    /// Header names lower-cased.
    var headers: [String: String]
    var body: Data

    func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// URLSession behind a call that blocks its thread until the answer is in: the pipeline
/// calls stores from worker threads, and URLSession runs completions on its own queue,
/// so waiting here cannot deadlock. HTTPS uses the system CA store (libcurl on Linux).
final class BlockingHTTPClient: @unchecked Sendable {
    private let session: URLSession

    init(timeout: Double, maxConnections: Int = 16) {
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
    func send(_ request: URLRequest) throws -> HTTPResponse {
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox()
        let task = session.dataTask(with: request) { data, response, error in
            if let error {
                box.result = .failure(error)
            } else if let http = response as? HTTPURLResponse {
                var headers: [String: String] = [:]
                for (name, value) in http.allHeaderFields {
                    if let name = name as? String { headers[name.lowercased()] = "\(value)" }
                }
                box.result = .success(HTTPResponse(status: http.statusCode, headers: headers, body: data ?? Data()))
            } else {
                box.result = .failure(URLError(.badServerResponse))
            }
            done.signal()
        }
        task.resume()
        done.wait()
        return try box.result.get()
    }

    /// Written by the completion handler before it signals, read after the wait.
    private final class ResultBox: @unchecked Sendable {
        var result: Result<HTTPResponse, Error> = .failure(URLError(.unknown))
    }
}
