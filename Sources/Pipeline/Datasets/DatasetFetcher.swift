import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Engine
import Hashing
import Storage

/// One line of a URL list: where to download from, what to call it, and (optionally) its SHA-256.
public struct RemoteFile: Equatable, Sendable {
    public var url: URL
    /// The object key in the destination: the URL's last path component.
    public var name: String
    /// Lower-case hex, when the list gives one.
    public var sha256: String?

    public init(url: URL, name: String? = nil, sha256: String? = nil) {
        self.url = url
        self.name = name ?? url.lastPathComponent
        self.sha256 = sha256?.lowercased()
    }

    /// Parses a URL list: one `URL [SHA256]` a line; blank lines and `#` comments are skipped.
    public static func parseList(_ text: String, file: String = "url list") throws -> [RemoteFile] {
        var files: [RemoteFile] = []
        var seen: [String: Int] = [:]
        for (index, rawLine) in text.components(separatedBy: .newlines).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first
                .map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard !line.isEmpty else { continue }
            let fields = line.split(whereSeparator: \.isWhitespace).map(String.init)
            func fail(_ reason: String) -> DatasetError { .malformed(file: file, line: index + 1, reason: reason) }
            guard fields.count <= 2 else { throw fail("expected URL [SHA256], got \(fields.count) fields") }
            guard let url = URL(string: fields[0]), ["http", "https"].contains(url.scheme?.lowercased() ?? ""),
                  url.host != nil else {
                throw fail("not an http(s) URL: \(fields[0])")
            }
            let name = url.lastPathComponent
            guard !name.isEmpty, name != "/" else { throw fail("the URL names no file: \(fields[0])") }
            var sha: String?
            if fields.count == 2 {
                let hex = fields[1].lowercased()
                guard hex.count == 64, hex.allSatisfy(\.isHexDigit) else {
                    throw fail("expected a SHA-256 of 64 hex digits, got \(fields[1])")
                }
                sha = hex
            }
            if let earlier = seen[name] {
                throw fail("\(name) is already fetched by line \(earlier); file names must be unique")
            }
            seen[name] = index + 1
            files.append(RemoteFile(url: url, name: name, sha256: sha))
        }
        return files
    }
}

/// What happened to one file of a fetch.
public struct FetchOutcome: Sendable {
    public enum Status: Equatable, Sendable {
        case downloaded(bytes: Int, attempts: Int)
        /// Already present (with the right checksum, when the list gives one).
        case alreadyPresent
        case failed(reason: String)
    }

    public var file: RemoteFile
    public var status: Status

    public var failed: Bool {
        if case .failed = status { return true }
        return false
    }

    /// One line for the terminal: `NAME: downloaded 123 bytes` or `URL: REASON`.
    public var line: String {
        switch status {
        case let .downloaded(bytes, attempts):
            return "\(file.name): downloaded \(bytes) bytes" + (attempts > 1 ? " (\(attempts) attempts)" : "")
        case .alreadyPresent:
            return "\(file.name): already present" + (file.sha256 == nil ? "" : ", checksum verified")
        case .failed(let reason):
            return "\(file.url.absoluteString): \(reason)"
        }
    }
}

/// Downloads the files of a URL list into a directory or an s3:// prefix, streaming each to
/// a temporary file, verifying its SHA-256 when given, then storing it with one atomic put.
/// Transient failures (network errors, 5xx, 408, 429, a checksum mismatch) are retried with
/// exponential backoff; a 4xx is reported at once.
public final class DatasetFetcher: Sendable {
    public struct Options: Sendable {
        /// Attempts per file beyond the first.
        public var retries = 4
        /// The wait before the first retry; doubled for each next one.
        public var initialBackoff: TimeInterval = 1
        /// Per-request inactivity timeout.
        public var timeout: TimeInterval = 60
        /// Files downloaded at once.
        public var parallel = 4

        public init() {}
    }

    public let destination: ObjectStore
    public let options: Options
    private let http: BlockingHTTPClient

    public init(destination: ObjectStore, options: Options = Options()) {
        self.destination = destination
        self.options = options
        self.http = BlockingHTTPClient(timeout: options.timeout, maxConnections: max(1, options.parallel))
    }

    /// A fetcher into `location` (a directory or s3://bucket/prefix); `settings` are conf keys (sextant.s3.*).
    public convenience init(into location: String, settings: [String: String] = [:], options: Options = Options()) throws {
        self.init(destination: try StoreFactory.makeStore(for: location, settings: settings), options: options)
    }

    /// Fetches every file, `parallel` at a time; `onOutcome` is called as each one ends (from any thread).
    public func fetch(_ files: [RemoteFile], onOutcome: (@Sendable (FetchOutcome) -> Void)? = nil) -> [FetchOutcome] {
        let outcomes = Locked([FetchOutcome?](repeating: nil, count: files.count))
        let next = Locked(0)
        let group = DispatchGroup()
        for _ in 0..<min(max(1, options.parallel), max(1, files.count)) {
            DispatchQueue.global().async(group: group) {
                while true {
                    let index = next.mutate { value -> Int in
                        defer { value += 1 }
                        return value
                    }
                    guard index < files.count else { return }
                    let outcome = self.fetch(files[index])
                    onOutcome?(outcome)
                    outcomes.mutate { $0[index] = outcome }
                }
            }
        }
        group.wait()
        return outcomes.value.map { $0! }
    }

    /// Fetches one file, with retries.
    public func fetch(_ file: RemoteFile) -> FetchOutcome {
        do {
            if try isPresent(file) { return FetchOutcome(file: file, status: .alreadyPresent) }
        } catch {
            return FetchOutcome(file: file, status: .failed(reason: "cannot check the existing copy: \(error)"))
        }
        var attempt = 0
        while true {
            attempt += 1
            switch download(file) {
            case .success(let bytes):
                return FetchOutcome(file: file, status: .downloaded(bytes: bytes, attempts: attempt))
            case .failure(let failure):
                guard failure.transient, attempt <= options.retries else {
                    let tries = attempt > 1 ? " (after \(attempt) attempts)" : ""
                    return FetchOutcome(file: file, status: .failed(reason: failure.reason + tries))
                }
                let backoff = Backoff(initialDelay: options.initialBackoff, maxDelay: options.initialBackoff * 64, jitter: 0.5)
                Thread.sleep(forTimeInterval: backoff.delay(beforeRetry: attempt - 1))
            }
        }
    }

    struct Failure: Error {
        var reason: String
        var transient: Bool
    }

    /// Streams the URL to a temporary file, checks it, and puts it in the destination.
    private func download(_ file: RemoteFile) -> Result<Int, Failure> {
        let temporary: URL
        do {
            let (response, downloaded) = try http.download(file.url)
            guard let downloaded else {
                let code = response.status
                return .failure(Failure(reason: "HTTP \(code) \(HTTPURLResponse.localizedString(forStatusCode: code))",
                                        transient: code >= 500 || code == 408 || code == 429))
            }
            temporary = downloaded
        } catch {
            return .failure(Failure(reason: error.localizedDescription, transient: true))
        }
        defer { try? FileManager.default.removeItem(at: temporary) }
        do {
            let (digest, bytes) = try Self.sha256(ofFile: temporary)
            if let expected = file.sha256, digest != expected {
                return .failure(Failure(reason: "checksum mismatch: expected SHA-256 \(expected), got \(digest)",
                                        transient: true))
            }
            try destination.put(file.name, contentsOf: temporary)
            return .success(bytes)
        } catch {
            return .failure(Failure(reason: "cannot store \(file.name): \(error)", transient: false))
        }
    }

    /// True when the destination already holds the file (with the listed checksum, if any).
    private func isPresent(_ file: RemoteFile) throws -> Bool {
        guard try destination.head(file.name) != nil else { return false }
        guard let expected = file.sha256 else { return true }
        let hasher = SHA256Hasher()
        hasher.update(try destination.get(file.name))
        return hasher.finalize().hexString == expected
    }

    /// The SHA-256 (hex) and size of a file, read in 1 MB chunks.
    static func sha256(ofFile url: URL) throws -> (String, Int) {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        let hasher = SHA256Hasher()
        var total = 0
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(chunk)
            total += chunk.count
        }
        return (hasher.finalize().hexString, total)
    }
}
