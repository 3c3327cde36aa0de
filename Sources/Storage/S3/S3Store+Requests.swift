import Foundation
import Hashing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Building, signing, sending and retrying one S3 request.
extension S3Store {
    struct S3Request {
        var method: String
        /// Key relative to the store, or nil for a bucket-level request.
        var key: String?
        var query: [(String, String)] = []
        /// Extra headers to sign, e.g. range.
        var headers: [(String, String)] = []
        var body = Data()
    }

    /// Sends `request`, retrying what may succeed later; any non-2xx answer becomes a StorageError.
    func perform(_ request: S3Request, location place: String) throws -> HTTPResponse {
        let payloadHash = Digest.sha256(request.body).hexString
        var attempt = 0
        while true {
            let outcome: Result<HTTPResponse, Error>
            do {
                outcome = .success(try client.send(try urlRequest(request, payloadHash: payloadHash)))
            } catch {
                outcome = .failure(error)
            }
            switch outcome {
            case .success(let response) where (200..<300).contains(response.status):
                return response
            case .success(let response):
                let error = serviceError(response, method: request.method, location: place)
                guard attempt < retry.maxRetries, RetryPolicy.isRetryable(status: response.status, code: error.code) else {
                    throw error
                }
                if error.code == "RequestTimeTooSkewed" { clock.adjust(serverDate: response.header("date")) }
            case .failure(let error):
                guard attempt < retry.maxRetries, RetryPolicy.isRetryable(error) else {
                    let tries = attempt + 1
                    throw StorageError(.transport, location: place,
                                       message: "\(request.method) to \(settings.endpoint.absoluteString) failed"
                                           + " after \(tries) attempt\(tries == 1 ? "" : "s"): \(error.localizedDescription)")
                }
            }
            Thread.sleep(forTimeInterval: retry.delay(beforeRetry: attempt))
            attempt += 1
        }
    }

    func urlRequest(_ request: S3Request, payloadHash: String) throws -> URLRequest {
        let endpoint = settings.endpoint
        var host = endpoint.host ?? ""
        if let port = endpoint.port, !(endpoint.scheme == "http" && port == 80), !(endpoint.scheme == "https" && port == 443) {
            host += ":\(port)"
        }
        let encodedKey = request.key.map { SigV4Signer.uriEncode(prefix + $0, keepSlash: true) }
        let path: String
        if settings.pathStyle {
            path = "/" + bucket + (encodedKey.map { "/" + $0 } ?? "")
        } else {
            host = bucket + "." + host
            path = "/" + (encodedKey ?? "")
        }
        var signed = SigV4Signer.Request(
            method: request.method, path: path, query: request.query,
            headers: [("host", host), ("x-amz-content-sha256", payloadHash)] + request.headers,
            payloadHash: payloadHash)
        let authorization = signer.sign(&signed, at: clock.now())
        let query = SigV4Signer.canonicalQuery(request.query)
        let text = "\(endpoint.scheme ?? "https")://\(host)\(path)" + (query.isEmpty ? "" : "?" + query)
        guard let url = URL(string: text) else {
            throw StorageError(.invalidArgument, location: text, message: "cannot form a request URL")
        }
        var urlRequest = URLRequest(url: url)
        urlRequest.httpMethod = request.method
        for (name, value) in signed.headers where name != "host" { urlRequest.setValue(value, forHTTPHeaderField: name) }
        urlRequest.setValue(authorization, forHTTPHeaderField: "Authorization")
        if !request.body.isEmpty || request.method == "PUT" || request.method == "POST" {
            urlRequest.httpBody = request.body
            urlRequest.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
        }
        return urlRequest
    }

    /// The S3 error document (Code, Message) as a StorageError; HEAD answers have no body.
    func serviceError(_ response: HTTPResponse, method: String, location place: String) -> StorageError {
        let document = S3XMLNode.parse(response.body)
        let code = document?.value("Code")
        let message = document?.value("Message")
            ?? HTTPURLResponse.localizedString(forStatusCode: response.status).capitalized + " (\(method))"
        let kind: StorageError.Kind
        switch (response.status, code) {
        case (404, _): kind = .notFound
        case (401, _), (403, _): kind = .accessDenied
        case (416, _): kind = .invalidRange
        default: kind = .service
        }
        return StorageError(kind, location: place, code: code, status: response.status, message: message)
    }
}

/// The difference between the server's clock and ours, learnt from a RequestTimeTooSkewed answer.
/// @unchecked: `lock` guards `offset`.
final class ClockOffset: @unchecked Sendable {
    private let lock = NSLock()
    private var offset: TimeInterval = 0

    func now() -> Date { lock.withLock { Date().addingTimeInterval(offset) } }

    /// Seconds added to the local clock when signing.
    var seconds: TimeInterval {
        get { lock.withLock { offset } }
        set { lock.withLock { offset = newValue } }
    }

    func adjust(serverDate: String?) {
        guard let serverDate else { return }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: serverDate) else { return }
        seconds = date.timeIntervalSinceNow
    }
}
