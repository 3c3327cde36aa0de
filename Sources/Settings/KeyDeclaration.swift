import Foundation

/// One configuration key as users see it: its name, the type of its value, its default,
/// what it does, and who may set it. Declared once (in `Keys/`), read by the code that uses
/// the key, the unknown-key check, the secret filter and the README's table alike.
public struct KeyDeclaration: Sendable, Hashable {
    public enum ValueType: String, Sendable {
        case string, bool, integer, number, size, duration, list
    }

    /// Who a key belongs to, which decides where it may travel.
    public enum Scope: String, Sendable {
        /// A job may set it; it travels with the job to the master and with tasks to executors.
        case job
        /// A setting of the process that reads it (an executor's SEP stack, its large-image
        /// slots): taken from that process's own configuration, never from a job.
        case process
        /// Read by the command or daemon given it (addresses, ports, the UI); not sent anywhere.
        case local
    }

    public let name: String
    public let type: ValueType
    /// The default as the README shows it (a value, or how it is found when computed).
    public let documentedDefault: String
    public let doc: String
    public let section: ConfigurationSection
    public let scope: Scope
    /// Never logged, never shown, never sent to another process.
    public let secret: Bool

    /// A job's settings may carry it.
    public var jobSettable: Bool { scope == .job && !secret }
    /// An executor's own setting, never a job's.
    public var processWide: Bool { scope == .process }

    public init(name: String, type: ValueType, documentedDefault: String, doc: String,
                section: ConfigurationSection, scope: Scope, secret: Bool = false) {
        self.name = name
        self.type = type
        self.documentedDefault = documentedDefault
        self.doc = doc
        self.section = section
        self.scope = scope
        self.secret = secret
    }
}

/// The README's groups of keys, in the order it lists them.
public enum ConfigurationSection: String, Sendable, CaseIterable {
    case scheduler = "jobs and the scheduler"
    case extraction
    case cluster
    case storage
    case monitoring
    case datasets
    case pipe = "pipes (`run --pipe`)"
    case stream = "streams (`sextant stream`)"
}

/// A declared key with its typed default and its parser: `configuration.value(of: key)` gives
/// the typed value or an error naming the key, the bad value and what was expected.
public struct ConfigKey<Value: Sendable>: Sendable {
    public let declaration: KeyDeclaration
    public let defaultValue: Value
    /// What a valid value looks like, for error messages.
    public let expected: String
    let read: @Sendable (String) -> Value?

    public var name: String { declaration.name }

    public init(declaration: KeyDeclaration, defaultValue: Value, expected: String,
                read: @escaping @Sendable (String) -> Value?) {
        self.declaration = declaration
        self.defaultValue = defaultValue
        self.expected = expected
        self.read = read
    }
}

/// Builders for the declarations in `Keys/`: each names the type once and derives the parser,
/// the expected-value text and (unless given) the documented default from it.
enum Declare {
    typealias Scope = KeyDeclaration.Scope

    static func key<Value>(_ name: String, _ type: KeyDeclaration.ValueType, _ section: ConfigurationSection,
                           _ scope: Scope, default value: Value, shown: String, expected: String,
                           secret: Bool = false, doc: String,
                           read: @escaping @Sendable (String) -> Value?) -> ConfigKey<Value> {
        ConfigKey(declaration: KeyDeclaration(name: name, type: type, documentedDefault: shown, doc: doc,
                                              section: section, scope: scope, secret: secret),
                  defaultValue: value, expected: expected, read: read)
    }

    static func bool(_ name: String, _ section: ConfigurationSection, _ scope: Scope, default value: Bool,
                     shown: String? = nil, doc: String) -> ConfigKey<Bool> {
        key(name, .bool, section, scope, default: value, shown: shown ?? "`\(value)`",
            expected: "true or false", doc: doc) { ValueParsers.bool($0) }
    }

    static func int(_ name: String, _ section: ConfigurationSection, _ scope: Scope, default value: Int,
                    in range: ClosedRange<Int> = 1...Int.max, shown: String? = nil, doc: String) -> ConfigKey<Int> {
        key(name, .integer, section, scope, default: value, shown: shown ?? "`\(value)`",
            expected: "a whole number " + describe(range), doc: doc) { text in
            ValueParsers.int(text).flatMap { range.contains($0) ? $0 : nil }
        }
    }

    /// A count whose default is computed by its reader (nil here), e.g. "all processors".
    static func optionalInt(_ name: String, _ section: ConfigurationSection, _ scope: Scope,
                            in range: ClosedRange<Int> = 1...Int.max, shown: String, doc: String) -> ConfigKey<Int?> {
        key(name, .integer, section, scope, default: nil, shown: shown,
            expected: "a whole number " + describe(range), doc: doc) { text in
            ValueParsers.int(text).flatMap { range.contains($0) ? .some($0) : nil }
        }
    }

    static func number(_ name: String, _ section: ConfigurationSection, _ scope: Scope, default value: Double,
                       in range: ClosedRange<Double> = -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude,
                       shown: String? = nil, doc: String) -> ConfigKey<Double> {
        let bounded = range != -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude
        return key(name, .number, section, scope, default: value, shown: shown ?? "`\(value)`",
                   expected: bounded ? "a number from \(range.lowerBound) to \(range.upperBound)" : "a number",
                   doc: doc) { text in
            ValueParsers.number(text).flatMap { range.contains($0) ? $0 : nil }
        }
    }

    static func size(_ name: String, _ section: ConfigurationSection, _ scope: Scope, default value: Int64,
                     in range: ClosedRange<Int64> = 0...Int64.max, shown: String, doc: String) -> ConfigKey<Int64> {
        let bounds = range == 0...Int64.max ? "" : " from \(format(range.lowerBound)) to \(format(range.upperBound))"
        return key(name, .size, section, scope, default: value, shown: shown,
                   expected: "a size like 512k, 64m or 2g" + bounds, doc: doc) { text in
            ValueParsers.size(text).flatMap { range.contains($0) ? $0 : nil }
        }
    }

    static func duration(_ name: String, _ section: ConfigurationSection, _ scope: Scope,
                         default value: TimeInterval, positive: Bool = true, shown: String,
                         doc: String) -> ConfigKey<TimeInterval> {
        key(name, .duration, section, scope, default: value, shown: shown,
            expected: (positive ? "a positive" : "a") + " duration like 500ms, 10s, 5min or 2h", doc: doc) { text in
            ValueParsers.duration(text).flatMap { !positive || $0 > 0 ? $0 : nil }
        }
    }

    static func string(_ name: String, _ section: ConfigurationSection, _ scope: Scope, default value: String,
                       shown: String? = nil, doc: String) -> ConfigKey<String> {
        key(name, .string, section, scope, default: value, shown: shown ?? "`\(value)`",
            expected: "a string", doc: doc) { $0 }
    }

    /// A string with no default here: absent, or computed by its reader.
    static func optionalString(_ name: String, _ section: ConfigurationSection, _ scope: Scope,
                               shown: String = "none", secret: Bool = false, doc: String) -> ConfigKey<String?> {
        key(name, .string, section, scope, default: nil, shown: shown, expected: "a string", secret: secret,
            doc: doc) { .some($0) }
    }

    static func list(_ name: String, _ section: ConfigurationSection, _ scope: Scope,
                     shown: String = "none", doc: String) -> ConfigKey<[String]> {
        key(name, .list, section, scope, default: [], shown: shown, expected: "a comma-separated list",
            doc: doc) { ValueParsers.list($0) }
    }

    private static func describe(_ range: ClosedRange<Int>) -> String {
        switch (range.lowerBound, range.upperBound) {
        case (_, Int.max): return "of at least \(range.lowerBound)"
        default: return "from \(range.lowerBound) to \(range.upperBound)"
        }
    }

    private static func format(_ bytes: Int64) -> String {
        for (unit, shift) in [("g", 30), ("m", 20), ("k", 10)] where bytes >= 1 << shift && bytes % (1 << shift) == 0 {
            return "\(bytes >> shift)\(unit)"
        }
        return "\(bytes)"
    }
}

/// Any declared key, whatever its value type.
public protocol DeclaredKey: Sendable { var declaration: KeyDeclaration { get } }
extension ConfigKey: DeclaredKey {}

/// The declarations of `keys`, in order: each `Keys/` file lists its keys once with this.
func declarations(_ keys: any DeclaredKey...) -> [KeyDeclaration] { keys.map(\.declaration) }
