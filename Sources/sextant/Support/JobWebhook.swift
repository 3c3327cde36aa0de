import ArgumentParser
import Cluster
import Engine
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Storage

/// `sextant.master.webhook`: POSTs each ended job's record as JSON, one at a time off the job's
/// thread, a failure logged once per job without the URL (which may hold a token).
/// @unchecked: `encoder` is used only on `queue`; the rest are thread-safe lets.
final class JobWebhook: @unchecked Sendable {
    private let url: URL
    private let client = BlockingHTTPClient(timeout: 10, maxConnections: 1)
    private let queue = DispatchQueue(label: "sextant.master.webhook")
    private let encoder = JSONEncoder()

    init(_ text: String) throws {
        guard let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
            throw ValidationError("\(ClusterKeys.webhook.name): not an http(s) URL")
        }
        self.url = url
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
    }

    func post(_ record: JobRecord) {
        queue.async { [self] in
            var request = URLRequest(url: url)
            request.httpMethod = "POST"
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try? encoder.encode(record)
            do {
                let response = try client.send(request)
                if !(200..<300).contains(response.status) {
                    Console.error("webhook for job \(record.id): HTTP \(response.status)")
                }
            } catch {
                Console.error("webhook for job \(record.id): no answer from \(url.host ?? "?") (\(type(of: error)))")
            }
        }
    }
}
