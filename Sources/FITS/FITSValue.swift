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
        let text = raw.trimmingBlanks()
        if text.isEmpty { return nil }
        if text.hasPrefix("'") {
            self = .string(Self.unquote(text))
        } else if text == "T" || text == "F" {
            self = .bool(text == "T")
        } else if let int = Int(text.hasPrefix("+") ? String(text.dropFirst()) : text) {
            self = .int(int)
        } else if let double = Double(Self.withExponentE(text)) {
            self = .double(double)
        } else {
            return nil
        }
    }

    /// 1.5D3 -> 1.5E3 (Fortran's double-precision exponent). Foundation's replacingOccurrences
    /// only where there is a D: it bridges to NSString, and most real values hold none.
    private static func withExponentE(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "D") || $0 == UInt8(ascii: "d") }) else { return text }
        return String(text.map { $0 == "D" ? "E" : $0 == "d" ? "e" : $0 })
    }

    /// 'O''Hara  ' -> O'Hara (FITS strings double their quotes; trailing blanks are not significant).
    private static func unquote(_ text: String) -> String {
        var inner = text.dropFirst()
        if inner.hasSuffix("'") { inner = inner.dropLast() }
        // One pass, each doubled quote kept once (Foundation's replacingOccurrences bridges to NSString).
        var result = "", afterQuote = false
        for character in inner {
            if character == "'", afterQuote { afterQuote = false; continue }
            afterQuote = character == "'"
            result.append(character)
        }
        while result.hasSuffix(" ") { result.removeLast() }
        return result
    }
}
