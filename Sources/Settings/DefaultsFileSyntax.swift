import Foundation

/// The syntax of `sextant-defaults.conf` (and `--properties-file`), documented in README.md:
///
/// - one `key value` a line; the key ends at the first blank or `=`, and blanks and one `=`
///   between key and value are the separator (`key value`, `key=value`, `key = value`);
/// - the value is the rest of the line, kept verbatim (`=`, `#` and `:` inside it included)
///   except that trailing blanks are dropped and ` #` (a blank, then `#`) starts a comment;
/// - a line whose first non-blank character is `#` is a comment; blank lines are skipped;
/// - a value in double quotes is taken literally, blanks and `#` included; inside the quotes
///   `\"` is a quote and `\\` a backslash. Nothing may follow the closing quote but a comment.
enum DefaultsFileSyntax {
    static func parse(_ text: String, source: String) throws -> [String: String] {
        var values: [String: String] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: CharacterSet.whitespaces.union(["\r"]))
            if line.isEmpty || line.hasPrefix("#") { continue }
            let malformed = ConfigurationError.malformedLine(source: source, line: index + 1, text: line)
            guard let keyEnd = line.firstIndex(where: { $0 == " " || $0 == "\t" || $0 == "=" }) else { throw malformed }
            let key = String(line[..<keyEnd])
            var rest = line[keyEnd...].drop { $0 == " " || $0 == "\t" }
            if rest.first == "=" { rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" } }
            guard let value = value(of: rest) else { throw malformed }
            values[key] = value
        }
        return values
    }

    /// The value of what follows the separator; nil when a quoted value is not closed properly.
    private static func value(of text: Substring) -> String? {
        guard text.first == "\"" else { return String(uncommented(text)) }
        var result = ""
        var index = text.index(after: text.startIndex)
        while index < text.endIndex {
            let character = text[index]
            if character == "\\", text.index(after: index) < text.endIndex,
               ["\"", "\\"].contains(text[text.index(after: index)]) {
                result.append(text[text.index(after: index)])
                index = text.index(index, offsetBy: 2)
                continue
            }
            if character == "\"" {
                let after = text[text.index(after: index)...].trimmingCharacters(in: .whitespaces)
                return after.isEmpty || after.hasPrefix("#") ? result : nil
            }
            result.append(character)
            index = text.index(after: index)
        }
        return nil
    }

    /// `text` up to a ` #` comment, trailing blanks dropped.
    private static func uncommented(_ text: Substring) -> Substring {
        var previousIsBlank = false
        for index in text.indices {
            let character = text[index]
            if character == "#", previousIsBlank { return trimmedTrailing(text[..<index]) }
            previousIsBlank = character == " " || character == "\t"
        }
        return trimmedTrailing(text)
    }

    private static func trimmedTrailing(_ text: Substring) -> Substring {
        var end = text.endIndex
        while end > text.startIndex, [" ", "\t"].contains(text[text.index(before: end)]) {
            end = text.index(before: end)
        }
        return text[..<end]
    }
}
