import Foundation

/// The one reader of typed values in configuration: every module parses sizes, durations and
/// booleans here, so `256m` or `5min` means the same to every key.
public enum ValueParsers {
    /// true/false, yes/no, on/off, 1/0, any case.
    public static func bool(_ text: String) -> Bool? {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: return nil
        }
    }

    /// A size: a bare number is bytes; `k`, `m`, `g`, `t` are powers of 1024, optionally followed
    /// by `b` or `ib` (`512k`, `64m`, `16MB`, `16MiB`, `1.5g`), as Spark reads them.
    public static func size(_ text: String) -> Int64? {
        var digits = text.trimmingCharacters(in: .whitespaces).lowercased()
        for suffix in ["ib", "b"] where digits.hasSuffix(suffix) && digits.count > suffix.count {
            digits.removeLast(suffix.count)
            break
        }
        let scales: [Character: Double] = ["k": 0x1p10, "m": 0x1p20, "g": 0x1p30, "t": 0x1p40]
        var scale = 1.0
        if let last = digits.last, let s = scales[last] {
            scale = s
            digits.removeLast()
        }
        guard let number = Double(digits.trimmingCharacters(in: .whitespaces)), number >= 0, number.isFinite else {
            return nil
        }
        let bytes = (number * scale).rounded()
        guard bytes < 0x1p62 else { return nil }
        return Int64(bytes)
    }

    /// A duration: `us`, `ms`, `s`, `m` or `min`, `h`, `d`; a bare number is seconds
    /// (`100ms`, `2s`, `5min`, `0.1`).
    public static func duration(_ text: String) -> TimeInterval? {
        let lower = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Double)] = [("ms", 1e-3), ("us", 1e-6), ("min", 60), ("s", 1), ("m", 60),
                                         ("h", 3600), ("d", 86400)]
        for (suffix, scale) in units where lower.hasSuffix(suffix) {
            guard let number = Double(lower.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)),
                  number >= 0, number.isFinite else { return nil }
            return number * scale
        }
        return Double(lower).flatMap { $0 >= 0 && $0.isFinite ? $0 : nil }
    }

    /// A whole number (surrounding blanks allowed).
    public static func int(_ text: String) -> Int? {
        Int(text.trimmingCharacters(in: .whitespaces))
    }

    /// A decimal number (surrounding blanks allowed).
    public static func number(_ text: String) -> Double? {
        Double(text.trimmingCharacters(in: .whitespaces)).flatMap { $0.isFinite ? $0 : nil }
    }

    /// Comma-separated items, blanks around them dropped, empty items skipped.
    public static func list(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
