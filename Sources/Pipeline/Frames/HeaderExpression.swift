import Foundation

/// `--where`: a small expression over header keywords, parsed once and evaluated per input.
///
///     expression := or
///     or         := and ( "||" and )*
///     and        := not ( "&&" not )*
///     not        := "!" not | "(" expression ")" | comparison
///     comparison := operand [ ( "==" | "!=" | "<" | "<=" | ">" | ">=" ) operand ]
///     operand    := KEYWORD | "string" | 'string' | number | true | false
///
/// A keyword is a FITS name (letters, digits, `-`, `_`; case does not matter). A lone keyword is
/// true when the header has it and it is not F. Numbers compare as numbers, strings as strings
/// (trailing blanks ignored, as FITS does); a comparison with a missing keyword, or between a
/// number and a string, is false. Nothing is evaluated but these comparisons.
public indirect enum HeaderExpression: Equatable, Sendable {
    public enum Operand: Equatable, Sendable {
        case keyword(String)
        case text(String)
        case number(Double)
        case bool(Bool)
    }

    public enum Comparison: String, Equatable, Sendable, CaseIterable {
        case equal = "==", notEqual = "!=", lessOrEqual = "<=", greaterOrEqual = ">=", less = "<", greater = ">"
    }

    case compare(Operand, Comparison, Operand)
    case present(String)
    case not(HeaderExpression)
    case and(HeaderExpression, HeaderExpression)
    case or(HeaderExpression, HeaderExpression)

    /// Parses `text`; a mistake is an error that says where.
    public init(_ text: String) throws {
        var parser = try Parser(text)
        self = try parser.parseExpression()
        guard parser.atEnd else { throw parser.error("unexpected \(parser.peekText)") }
    }

    /// The keywords the expression reads, in order of first use (what an exclusion reason shows).
    public var keywords: [String] {
        var seen: [String] = []
        func visit(_ operand: Operand) { if case .keyword(let name) = operand, !seen.contains(name) { seen.append(name) } }
        func walk(_ node: HeaderExpression) {
            switch node {
            case .compare(let left, _, let right): visit(left); visit(right)
            case .present(let name): visit(.keyword(name))
            case .not(let inner): walk(inner)
            case .and(let a, let b), .or(let a, let b): walk(a); walk(b)
            }
        }
        walk(self)
        return seen
    }

    /// Whether a header whose keywords `lookup` answers (nil: absent) satisfies the expression.
    public func matches(_ lookup: (String) -> FrameValue?) -> Bool {
        switch self {
        case .not(let inner): return !inner.matches(lookup)
        case .and(let a, let b): return a.matches(lookup) && b.matches(lookup)
        case .or(let a, let b): return a.matches(lookup) || b.matches(lookup)
        case .present(let name):
            guard let value = lookup(name) else { return false }
            return value != .text("F")
        case .compare(let left, let comparison, let right):
            guard let a = Self.resolve(left, lookup), let b = Self.resolve(right, lookup) else { return false }
            switch (a, b) {
            case (.number(let x), .number(let y)): return comparison.holds(x, y)
            case (.text(let x), .text(let y)): return comparison.holds(Self.trimmed(x), Self.trimmed(y))
            default: return false
            }
        }
    }

    private static func resolve(_ operand: Operand, _ lookup: (String) -> FrameValue?) -> FrameValue? {
        switch operand {
        case .keyword(let name): return lookup(name)
        case .text(let text): return .text(text)
        case .number(let number): return .number(number)
        case .bool(let flag): return .text(flag ? "T" : "F")
        }
    }

    private static func trimmed(_ text: String) -> String {
        var end = text.endIndex
        while end > text.startIndex, text[text.index(before: end)] == " " { end = text.index(before: end) }
        return String(text[..<end])
    }
}

extension HeaderExpression.Comparison {
    func holds<T: Comparable>(_ a: T, _ b: T) -> Bool {
        switch self {
        case .equal: return a == b
        case .notEqual: return a != b
        case .less: return a < b
        case .lessOrEqual: return a <= b
        case .greater: return a > b
        case .greaterOrEqual: return a >= b
        }
    }
}

public struct HeaderExpressionError: Error, CustomStringConvertible, Equatable {
    public var description: String
}

/// A recursive-descent parser over a token list.
private struct Parser {
    enum Token: Equatable {
        case keyword(String), text(String), number(Double), symbol(String)
    }

    private let source: String
    private var tokens: [(token: Token, offset: Int)] = []
    private var position = 0

    init(_ source: String) throws {
        self.source = source
        tokens = try Self.tokenize(source)
    }

    var atEnd: Bool { position >= tokens.count }
    var peekText: String {
        guard position < tokens.count else { return "end" }
        switch tokens[position].token {
        case .keyword(let name): return name
        case .text(let text): return "\"\(text)\""
        case .number(let number): return "\(number)"
        case .symbol(let symbol): return "'\(symbol)'"
        }
    }

    func error(_ message: String) -> HeaderExpressionError {
        let offset = position < tokens.count ? tokens[position].offset : source.count
        return HeaderExpressionError(description: "--where '\(source)': \(message) at character \(offset + 1)")
    }

    mutating func parseExpression() throws -> HeaderExpression {
        var left = try parseAnd()
        while take("||") { left = .or(left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws -> HeaderExpression {
        var left = try parseNot()
        while take("&&") { left = .and(left, try parseNot()) }
        return left
    }

    private mutating func parseNot() throws -> HeaderExpression {
        if take("!") { return .not(try parseNot()) }
        if take("(") {
            let inner = try parseExpression()
            guard take(")") else { throw error("expected ')'") }
            return inner
        }
        let left = try parseOperand()
        for comparison in HeaderExpression.Comparison.allCases where take(comparison.rawValue) {
            return .compare(left, comparison, try parseOperand())
        }
        guard case .keyword(let name) = left else { throw error("a literal alone is not a condition") }
        return .present(name)
    }

    private mutating func parseOperand() throws -> HeaderExpression.Operand {
        guard position < tokens.count else { throw error("expected a keyword or a value") }
        let token = tokens[position].token
        switch token {
        case .keyword(let name):
            position += 1
            switch name {
            case "TRUE": return .bool(true)
            case "FALSE": return .bool(false)
            default: return .keyword(name)
            }
        case .text(let text): position += 1; return .text(text)
        case .number(let number): position += 1; return .number(number)
        case .symbol: throw error("expected a keyword or a value, not \(peekText)")
        }
    }

    private mutating func take(_ symbol: String) -> Bool {
        guard position < tokens.count, tokens[position].token == .symbol(symbol) else { return false }
        position += 1
        return true
    }

    private static let symbols = ["==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "(", ")"]

    private static func tokenize(_ source: String) throws -> [(token: Token, offset: Int)] {
        let chars = Array(source)
        var tokens: [(token: Token, offset: Int)] = []
        var i = 0
        func fail(_ message: String) -> HeaderExpressionError {
            HeaderExpressionError(description: "--where '\(source)': \(message) at character \(i + 1)")
        }
        while i < chars.count {
            let c = chars[i]
            if c == " " || c == "\t" { i += 1; continue }
            let start = i
            if c == "\"" || c == "'" {
                i += 1
                var text = ""
                while i < chars.count, chars[i] != c { text.append(chars[i]); i += 1 }
                guard i < chars.count else { throw fail("unterminated string") }
                i += 1
                tokens.append((.text(text), start))
            } else if c.isNumber || ((c == "-" || c == "+" || c == ".") && i + 1 < chars.count && (chars[i + 1].isNumber || chars[i + 1] == ".")) {
                i += 1
                while i < chars.count, chars[i].isNumber || chars[i] == "." || chars[i] == "e" || chars[i] == "E"
                        || ((chars[i] == "-" || chars[i] == "+") && (chars[i - 1] == "e" || chars[i - 1] == "E")) { i += 1 }
                guard let number = Double(String(chars[start..<i])), number.isFinite else {
                    i = start
                    throw fail("'\(String(chars[start..<min(chars.count, start + 12)]))' is not a number")
                }
                tokens.append((.number(number), start))
            } else if c.isLetter || c == "_" {
                while i < chars.count, chars[i].isLetter || chars[i].isNumber || chars[i] == "-" || chars[i] == "_" { i += 1 }
                let name = String(chars[start..<i]).uppercased()
                guard name.count <= 8 || name == "FALSE" || name == "TRUE", name.allSatisfy(\.isASCII) else {
                    i = start
                    throw fail("'\(name)' is not a FITS keyword (at most 8 characters)")
                }
                tokens.append((.keyword(name), start))
            } else if let symbol = symbols.first(where: { chars[i...].starts(with: Array($0)) }) {
                i += symbol.count
                tokens.append((.symbol(symbol), start))
            } else {
                throw fail("unexpected '\(c)'")
            }
        }
        return tokens
    }
}
