import Foundation

/// Settings as Spark users expect them: defaults from a file of `key value` lines,
/// overridden by `--conf key=value` pairs, overridden by explicit flags.
///
/// Values are kept as strings; typed getters parse them on demand and name the key
/// and the bad value when they cannot.
public struct Configuration: Sendable, Equatable {
    public private(set) var values: [String: String]

    public init(_ values: [String: String] = [:]) {
        self.values = values
    }

    /// Parses a defaults file: one `key value` (or `key=value`) per line, `#` starts a comment.
    public static func parse(_ text: String, source: String = "configuration") throws -> Configuration {
        var values: [String: String] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            let separator = trimmed.firstIndex(where: { $0 == " " || $0 == "\t" || $0 == "=" })
            guard let separator else {
                throw ConfigurationError.malformedLine(source: source, line: index + 1, text: trimmed)
            }
            let key = String(trimmed[..<separator])
            let value = trimmed[trimmed.index(after: separator)...]
                .trimmingCharacters(in: CharacterSet.whitespaces.union(["="]))
            values[key] = value
        }
        return Configuration(values)
    }

    /// Reads a defaults file; a missing file is an error naming it.
    public static func load(contentsOf url: URL) throws -> Configuration {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw ConfigurationError.unreadableFile(path: url.path, reason: error.localizedDescription)
        }
        return try parse(text, source: url.path)
    }

    /// Builds the effective configuration: file defaults, then `--conf key=value` pairs,
    /// then explicit flags (nil flags are ignored).
    public static func layered(defaultsFile: URL? = nil, confPairs: [String] = [],
                               flags: [String: String?] = [:]) throws -> Configuration {
        var configuration = try defaultsFile.map(load(contentsOf:)) ?? Configuration()
        try configuration.apply(confPairs: confPairs)
        for (key, value) in flags {
            if let value { configuration[key] = value }
        }
        return configuration
    }

    /// Applies `key=value` pairs as given to `--conf`.
    public mutating func apply(confPairs: [String]) throws {
        for pair in confPairs {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw ConfigurationError.malformedPair(pair)
            }
            values[String(pair[..<equals]).trimmingCharacters(in: .whitespaces)] =
                String(pair[pair.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
        }
    }

    /// `other`'s values win.
    public func merging(_ other: Configuration) -> Configuration {
        Configuration(values.merging(other.values) { _, new in new })
    }

    public subscript(key: String) -> String? {
        get { values[key] }
        set { values[key] = newValue }
    }

    public func string(_ key: String, default fallback: String) -> String {
        values[key] ?? fallback
    }

    public func int(_ key: String, default fallback: Int) throws -> Int {
        try typed(key, fallback, expected: "an integer") { Int($0) }
    }

    public func double(_ key: String, default fallback: Double) throws -> Double {
        try typed(key, fallback, expected: "a number") { Double($0) }
    }

    /// true/false, yes/no, on/off, 1/0.
    public func bool(_ key: String, default fallback: Bool) throws -> Bool {
        try typed(key, fallback, expected: "true or false") { value in
            switch value.lowercased() {
            case "true", "yes", "on", "1": return true
            case "false", "no", "off", "0": return false
            default: return nil
            }
        }
    }

    /// A duration like `500ms`, `10s`, `5min`, `2h`, `1d`; a bare number is seconds.
    public func duration(_ key: String, default fallback: TimeInterval) throws -> TimeInterval {
        try typed(key, fallback, expected: "a duration like 500ms, 10s, 5min or 2h") { Configuration.parseDuration($0) }
    }

    /// A size like `64m`, `512k`, `2g` (powers of 1024, as Spark reads them); a bare number is bytes.
    public func size(_ key: String, default fallback: Int64) throws -> Int64 {
        try typed(key, fallback, expected: "a size like 512k, 64m or 2g") { Configuration.parseSize($0) }
    }

    /// The keys set here that are in none of `known` but start with one of `prefixes`:
    /// most likely misspelled. Each comes with the closest known key, if one is close.
    public func unknownKeys(known: Set<String>, prefixes: [String] = ["sextant."]) -> [(key: String, suggestion: String?)] {
        values.keys.sorted()
            .filter { key in !known.contains(key) && prefixes.contains(where: { key.hasPrefix($0) }) }
            .map { key in
                let best = known.min { editDistance(key, $0) < editDistance(key, $1) }
                let suggestion = best.flatMap { editDistance(key, $0) <= max(2, key.count / 5) ? $0 : nil }
                return (key, suggestion)
            }
    }

    private func typed<T>(_ key: String, _ fallback: T, expected: String,
                          parse: (String) -> T?) throws -> T {
        guard let raw = values[key] else { return fallback }
        guard let value = parse(raw.trimmingCharacters(in: .whitespaces)) else {
            throw ConfigurationError.badValue(key: key, value: raw, expected: expected)
        }
        return value
    }

    static func parseDuration(_ text: String) -> TimeInterval? {
        let units: [(String, Double)] = [("ms", 1e-3), ("us", 1e-6), ("min", 60), ("s", 1), ("m", 60),
                                          ("h", 3600), ("d", 86400)]
        let lower = text.lowercased()
        for (suffix, scale) in units where lower.hasSuffix(suffix) {
            guard let number = Double(lower.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)),
                  number >= 0 else { return nil }
            return number * scale
        }
        return Double(lower).flatMap { $0 >= 0 ? $0 : nil }
    }

    static func parseSize(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [("kb", 1 << 10), ("mb", 1 << 20), ("gb", 1 << 30), ("tb", 1 << 40),
                                        ("k", 1 << 10), ("m", 1 << 20), ("g", 1 << 30), ("t", 1 << 40),
                                        ("b", 1)]
        let lower = text.lowercased()
        for (suffix, scale) in units where lower.hasSuffix(suffix) {
            guard let number = Double(lower.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)),
                  number >= 0 else { return nil }
            return Int64(number * Double(scale))
        }
        return Int64(lower).flatMap { $0 >= 0 ? $0 : nil }
    }
}

public enum ConfigurationError: Error, CustomStringConvertible, Equatable {
    case malformedLine(source: String, line: Int, text: String)
    case malformedPair(String)
    case badValue(key: String, value: String, expected: String)
    case unreadableFile(path: String, reason: String)

    public var description: String {
        switch self {
        case let .malformedLine(source, line, text):
            return "\(source):\(line): expected 'key value', found '\(text)'"
        case let .malformedPair(pair):
            return "--conf expects key=value, found '\(pair)'"
        case let .badValue(key, value, expected):
            return "configuration key \(key): '\(value)' is not \(expected)"
        case let .unreadableFile(path, reason):
            return "cannot read configuration file \(path): \(reason)"
        }
    }
}

/// Levenshtein distance, for "did you mean" hints.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in stride(from: 1, through: b.count, by: 1) {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
