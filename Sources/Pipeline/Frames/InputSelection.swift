import FITS
import Foundation
import Storage

/// `--where` at plan time: reads the leading headers of each input (the first 64 KiB of a file
/// or object; gzip'd and bzip2'd inputs are inflated) and keeps the inputs whose header matches.
/// O(1) memory an input beyond its verdict; headers are read by a few threads at once.
struct InputSelection {
    enum Verdict: Equatable {
        case selected
        /// Left out: the header values the expression read.
        case excluded(reason: String)
        /// The header could not be read: a one-line error naming the input.
        case unreadable(error: String)
    }

    let expression: HeaderExpression
    let text: String
    let settings: [String: String]
    let roots: AllowedRoots
    /// Only these cards are parsed.
    let keywords: Set<String>

    init(text: String, settings: [String: String]) throws {
        self.expression = try HeaderExpression(text)
        self.keywords = Set(expression.keywords)
        self.text = text
        self.settings = settings
        self.roots = AllowedRoots(settings: settings)
    }

    /// A verdict per input of `inputs` at `indices`; nil for an input this process may not read
    /// (outside `sextant.security.allowedRoots`), which the extract operator then refuses.
    func verdicts(for inputs: [InputFile], at indices: [Int]) -> [Int: Verdict] {
        var verdicts = [Verdict?](repeating: nil, count: indices.count)
        let chunk = 256
        let chunks = (indices.count + chunk - 1) / chunk
        verdicts.withUnsafeMutableBufferPointer { slots in
            nonisolated(unsafe) let slots = slots
            DispatchQueue.concurrentPerform(iterations: chunks) { part in
                for position in (part * chunk)..<min(indices.count, (part + 1) * chunk) {
                    slots[position] = verdict(for: inputs[indices[position]])
                }
            }
        }
        var result: [Int: Verdict] = [:]
        for (position, verdict) in verdicts.enumerated() {
            if let verdict, verdict != .selected { result[indices[position]] = verdict }
        }
        return result
    }

    func verdict(for input: InputFile) -> Verdict? {
        guard roots.allows(input.uri) else { return nil }
        let headers: [FITSHeader]
        do { headers = try leadingHeaders(of: input) } catch {
            return .unreadable(error: ManifestEntry.errorLine(
                input: input.uri, message: "--where cannot read its header: \(error)"))
        }
        let lookup = { (name: String) in FrameMeasurement.value(of: name, in: headers[0], primary: headers.dropFirst().first) }
        if expression.matches(lookup) { return .selected }
        let values = expression.keywords.map { name -> String in
            guard let value = lookup(name) else { return "\(name) absent" }
            if case .text(let text) = value { return "\(name) = \"\(text)\"" }
            return "\(name) = \(value)"
        }
        return .excluded(reason: "--where '\(text)' is false: " + values.joined(separator: ", "))
    }

    private func leadingHeaders(of input: InputFile) throws -> [FITSHeader] {
        let uri = input.uri
        let limits = try InputLimitSettings.limits(from: settings)
        guard uri.contains("://"), !uri.hasPrefix("file://") else {
            let path = uri.hasPrefix("file://") ? String(uri.dropFirst("file://".count)) : uri
            return try FITSHeaderPeek.headers(atPath: path, limits: limits, only: keywords)
        }
        let (store, key, _) = try StoreCache.shared.storeAndKey(for: uri, settings: settings)
        let lower = uri.lowercased()
        let compressed = lower.hasSuffix(".gz") || lower.hasSuffix(".bz2")
        let data = compressed ? try store.get(key) : try store.get(key, range: 0..<FITSHeaderPeek.peekBytes)
        return try FITSHeaderPeek.headers(inFileBytes: data, name: uri, limits: limits, only: keywords)
    }
}
