import Foundation

/// A header keyword's value, as FITS types it.
public enum FITSValue: Sendable, Hashable, CustomStringConvertible {
    case string(String)
    case bool(Bool)
    case int(Int)
    case double(Double)

    public var description: String {
        switch self {
        case .string(let s): return "'\(s)'"
        case .bool(let b): return b ? "T" : "F"
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        }
    }

    /// Parses the value field of a card (the text between `= ` and the comment), as CFITSIO's
    /// ffpsvc returns it. Returns nil for an undefined value or one we do not type (complex numbers).
    init?(fitsText raw: String) {
        let text = raw.trimmingCharacters(in: .whitespaces)
        if text.isEmpty { return nil }
        if text.hasPrefix("'") {
            self = .string(Self.unquote(text))
        } else if text == "T" || text == "F" {
            self = .bool(text == "T")
        } else if let int = Int(text.hasPrefix("+") ? String(text.dropFirst()) : text) {
            self = .int(int)
        } else if let double = Double(text.replacingOccurrences(of: "D", with: "E")
                                          .replacingOccurrences(of: "d", with: "e")) {
            self = .double(double)
        } else {
            return nil
        }
    }

    /// 'O''Hara  ' -> O'Hara (FITS strings double their quotes; trailing blanks are not significant).
    private static func unquote(_ text: String) -> String {
        var inner = text.dropFirst()
        if inner.hasSuffix("'") { inner = inner.dropLast() }
        var result = inner.replacingOccurrences(of: "''", with: "'")
        while result.hasSuffix(" ") { result.removeLast() }
        return result
    }
}
