import Foundation

/// Settings as Spark users expect them: defaults from a file of `key value` lines,
/// overridden by `--conf key=value` pairs, overridden by explicit flags.
///
/// Values are kept verbatim as strings; `value(of:)` reads a declared key (see `Keys/`) with
/// its type and default, and the string getters read any key with the same parsers.
public struct Configuration: Sendable, Equatable {
    public private(set) var values: [String: String]

    public init(_ values: [String: String] = [:]) {
        self.values = values
    }

    /// Parses a defaults file (rules in `DefaultsFileSyntax`).
    public static func parse(_ text: String, source: String = "configuration") throws -> Configuration {
        Configuration(try DefaultsFileSyntax.parse(text, source: source))
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

    /// Applies `key=value` pairs as given to `--conf`: the key is what precedes the first `=`
    /// (blanks trimmed); the value is everything after it, verbatim (the shell did the quoting).
    public mutating func apply(confPairs: [String]) throws {
        for pair in confPairs {
            guard let equals = pair.firstIndex(of: "="),
                  !pair[..<equals].trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ConfigurationError.malformedPair(pair)
            }
            values[String(pair[..<equals]).trimmingCharacters(in: .whitespaces)] = String(pair[pair.index(after: equals)...])
        }
    }

    /// `other`'s values win.
    public func merging(_ other: Configuration) -> Configuration {
        Configuration(values.merging(other.values) { _, new in new })
    }

    /// Only the keys for which `isIncluded` holds.
    public func filter(_ isIncluded: (_ key: String) -> Bool) -> Configuration {
        Configuration(values.filter { isIncluded($0.key) })
    }

    public subscript(key: String) -> String? {
        get { values[key] }
        set { values[key] = newValue }
    }

    /// The typed value of a declared key: its default when unset, an error naming the key
    /// (and the value, unless the key is secret) when the value does not parse.
    public func value<Value>(of key: ConfigKey<Value>) throws -> Value {
        guard let raw = values[key.name] else { return key.defaultValue }
        guard let value = key.read(raw) else {
            throw ConfigurationError.badValue(key: key.name, value: key.declaration.secret ? "(secret)" : raw,
                                              expected: key.expected)
        }
        return value
    }

    /// True when the key is set (even to an empty string).
    public func contains<Value>(_ key: ConfigKey<Value>) -> Bool { values[key.name] != nil }

    public func string(_ key: String, default fallback: String) -> String {
        values[key] ?? fallback
    }

    public func int(_ key: String, default fallback: Int) throws -> Int {
        try typed(key, fallback, expected: "an integer", parse: ValueParsers.int)
    }

    public func double(_ key: String, default fallback: Double) throws -> Double {
        try typed(key, fallback, expected: "a number", parse: ValueParsers.number)
    }

    /// true/false, yes/no, on/off, 1/0.
    public func bool(_ key: String, default fallback: Bool) throws -> Bool {
        try typed(key, fallback, expected: "true or false", parse: ValueParsers.bool)
    }

    /// A duration like `500ms`, `10s`, `5min`, `2h`, `1d`; a bare number is seconds.
    public func duration(_ key: String, default fallback: TimeInterval) throws -> TimeInterval {
        try typed(key, fallback, expected: "a duration like 500ms, 10s, 5min or 2h", parse: ValueParsers.duration)
    }

    /// A size like `64m`, `512k`, `2g` (powers of 1024, as Spark reads them); a bare number is bytes.
    public func size(_ key: String, default fallback: Int64) throws -> Int64 {
        try typed(key, fallback, expected: "a size like 512k, 64m or 2g", parse: ValueParsers.size)
    }

    /// The `sextant.*` keys set here that no module declares (nor a declared family's prefix
    /// covers): most likely misspelled. Each comes with the closest known key, if one is close.
    public func unknownKeys() -> [(key: String, suggestion: String?)] {
        values.keys.sorted()
            .filter { $0.hasPrefix("sextant.") && ConfigurationKeys.declaration(named: $0) == nil }
            .map { key in (key, ConfigurationKeys.nearest(to: key)) }
    }

    /// One warning line per unknown `sextant.*` key, naming the nearest known key when one is close.
    public func unknownKeyWarnings() -> [String] {
        unknownKeys().map { key, suggestion in
            "unknown configuration key \(key)" + (suggestion.map { " (did you mean \($0)?)" } ?? "; it is ignored")
        }
    }

    private func typed<T>(_ key: String, _ fallback: T, expected: String,
                          parse: (String) -> T?) throws -> T {
        guard let raw = values[key] else { return fallback }
        guard let value = parse(raw) else {
            let secret = ConfigurationKeys.declaration(named: key)?.secret ?? false
            throw ConfigurationError.badValue(key: key, value: secret ? "(secret)" : raw, expected: expected)
        }
        return value
    }
}

/// Everything wrong with configuration, from any module: a bad file line, a bad `--conf`
/// pair, a value that is not what its key takes, a file that cannot be read.
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
