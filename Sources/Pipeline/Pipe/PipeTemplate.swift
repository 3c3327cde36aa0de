import Foundation

/// A `--pipe` command as the user wrote it, checked once when the job is built and rendered
/// per input on the executor.
///
/// Without `shell` the text is split into words the way a POSIX shell splits a simple command
/// (blanks separate words; `'...'` is literal; `"..."` is literal but for `\"` and `\\`;
/// a backslash outside quotes escapes the next character), with no expansion of `$`, globs,
/// pipes or redirections, and run with posix_spawn. Placeholders are replaced inside words:
/// each value stays one argument, whatever spaces or quotes a file name holds. With `shell`
/// the text goes to `/bin/sh -c`, and each placeholder becomes one single-quoted shell word.
public struct PipeTemplate: Codable, Equatable, Sendable {
    public var command: String
    public var shell: Bool

    public init(command: String, shell: Bool = false) throws {
        self.command = command
        self.shell = shell
        _ = try parsed()
    }

    /// The program the command runs: its first word, or `/bin/sh` with `shell`.
    public var program: String {
        get throws { shell ? Self.shellPath : try parsed().program }
    }

    /// What the outputs of the input with `relativePath` are called under DEST, in the order
    /// the command names them: `{output}` keeps the input's own name, `{output:SUFFIX}` puts
    /// SUFFIX in place of its image suffix (`ccd3/f.fits` with `{output:.cat}` is `ccd3/f.cat`).
    public func outputNames(for relativePath: String) -> [String] {
        outputSuffixes.map { Self.outputName(relativePath, suffix: $0) }
    }

    /// The output placeholders in the order the command names them: nil for `{output}`, else the SUFFIX.
    var outputSuffixes: [String?] { (try? parsed().outputSuffixes) ?? [] }

    /// The argument vector for one input; `values` gives every placeholder's text.
    func arguments(_ values: PipeValues) throws -> [String] {
        let template = try parsed()
        if shell {
            let text = template.shellText.map { $0.render(values, quote: Self.shellQuote) }.joined()
            return [Self.shellPath, "-c", text]
        }
        return template.words.map { word in word.map { $0.render(values, quote: { $0 }) }.joined() }
    }

    static let shellPath = "/bin/sh"

    static func outputName(_ relativePath: String, suffix: String?) -> String {
        guard let suffix else { return relativePath }
        return InputFile.stem(of: relativePath) + suffix
    }

    /// One POSIX shell word that means exactly `text`.
    static func shellQuote(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// The command line as one string a user can read (and paste into a shell).
    static func display(_ arguments: [String]) -> String {
        let plain = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_./=:,+@%"))
        return arguments.map { argument in
            !argument.isEmpty && argument.unicodeScalars.allSatisfy(plain.contains) ? argument : shellQuote(argument)
        }.joined(separator: " ")
    }

    private func parsed() throws -> ParsedTemplate {
        try ParsedTemplate(command, shell: shell)
    }
}

/// The text each placeholder stands for, for one input.
struct PipeValues {
    var input: String
    var name: String
    var stem: String
    var directory: String
    /// Local paths of the outputs, by suffix (nil for plain `{output}`).
    var outputs: [String?: String]
}

/// A piece of a word: literal text or a placeholder.
enum PipeSegment: Equatable {
    case text(String)
    case input, name, stem, directory
    case output(suffix: String?)

    func render(_ values: PipeValues, quote: (String) -> String) -> String {
        switch self {
        case .text(let text): return text
        case .input: return quote(values.input)
        case .name: return quote(values.name)
        case .stem: return quote(values.stem)
        case .directory: return quote(values.directory)
        case .output(let suffix): return quote(values.outputs[suffix] ?? "")
        }
    }
}

public struct PipeTemplateError: Error, CustomStringConvertible, Equatable {
    public var reason: String
    public var description: String { "--pipe: \(reason)" }
}

/// The command split into words (or kept whole for the shell) with its placeholders found.
struct ParsedTemplate {
    var words: [[PipeSegment]] = []
    var shellText: [PipeSegment] = []
    var outputSuffixes: [String?] = []

    var program: String {
        guard case .text(let text)? = words.first?.first else { return "" }
        return text
    }

    static let placeholderNames = "{input}, {output}, {output:SUFFIX}, {name}, {stem}, {dir}"

    init(_ command: String, shell: Bool) throws {
        if shell {
            shellText = try Self.segments(command)
            outputSuffixes = Self.suffixes(in: shellText)
        } else {
            words = try Self.split(command).map(Self.segments)
            guard let first = words.first else { throw PipeTemplateError(reason: "the command is empty") }
            guard first.count == 1, case .text = first[0] else {
                throw PipeTemplateError(reason: "the program (the first word) must be written out, not a placeholder, so executors can check it is allowed")
            }
            outputSuffixes = Self.suffixes(in: words.flatMap { $0 })
        }
        guard !outputSuffixes.isEmpty else {
            throw PipeTemplateError(reason: "the command names no {output} or {output:SUFFIX}, so it would commit nothing (placeholders: \(Self.placeholderNames))")
        }
    }

    private static func suffixes(in segments: [PipeSegment]) -> [String?] {
        var seen: [String?] = []
        for case .output(let suffix) in segments where !seen.contains(suffix) { seen.append(suffix) }
        return seen
    }

    /// Shell-style word splitting without expansion.
    static func split(_ command: String) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var characters = command.makeIterator()
        while let c = characters.next() {
            switch (quote, c) {
            case ("'", "'"), ("\"", "\""):
                quote = nil
            case ("'", _):
                current.append(c)
            case ("\"", "\\"):
                guard let next = characters.next() else { throw PipeTemplateError(reason: "unterminated \" quote") }
                if next != "\"" && next != "\\" { current.append("\\") }
                current.append(next)
            case ("\"", _):
                current.append(c)
            case (nil, "'"), (nil, "\""):
                quote = c
                inWord = true
            case (nil, "\\"):
                guard let next = characters.next() else { throw PipeTemplateError(reason: "the command ends with a backslash") }
                current.append(next)
                inWord = true
            case (nil, _) where c.isWhitespace:
                if inWord { words.append(current) }
                current = ""
                inWord = false
            default:
                current.append(c)
                inWord = true
            }
        }
        if let quote { throw PipeTemplateError(reason: "unterminated \(quote) quote") }
        if inWord { words.append(current) }
        return words
    }

    /// Finds placeholders in `text`. `{{` and `}}` are literal braces; braces around anything
    /// that is not a lowercase word (an awk program, `${HOME}`) are left alone; a lowercase word
    /// that is not a placeholder is refused, as it is most likely a misspelt one.
    static func segments(_ text: String) throws -> [PipeSegment] {
        var segments: [PipeSegment] = []
        var literal = ""
        var rest = Substring(text)
        func flush() {
            if !literal.isEmpty { segments.append(.text(literal)) }
            literal = ""
        }
        while let c = rest.first {
            if rest.hasPrefix("{{") || rest.hasPrefix("}}") {
                literal.append(c)
                rest = rest.dropFirst(2)
                continue
            }
            guard c == "{", let close = rest.firstIndex(of: "}") else {
                literal.append(c)
                rest = rest.dropFirst()
                continue
            }
            let body = String(rest[rest.index(after: rest.startIndex)..<close])
            let word = body.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
            guard !word.isEmpty, word.allSatisfy({ $0.isLetter && $0.isLowercase }), !body.contains(" ") else {
                literal.append(c)
                rest = rest.dropFirst()
                continue
            }
            flush()
            segments.append(try placeholder(body))
            rest = rest[rest.index(after: close)...]
        }
        flush()
        return segments
    }

    private static func placeholder(_ body: String) throws -> PipeSegment {
        switch body {
        case "input": return .input
        case "name": return .name
        case "stem": return .stem
        case "dir": return .directory
        case "output": return .output(suffix: nil)
        default:
            if body.hasPrefix("output:") {
                let suffix = String(body.dropFirst("output:".count))
                guard !suffix.isEmpty, !suffix.contains("/") else {
                    throw PipeTemplateError(reason: "{\(body)}: the suffix must be non-empty and hold no '/', e.g. {output:.cat}")
                }
                return .output(suffix: suffix)
            }
            throw PipeTemplateError(reason: "unknown placeholder {\(body)} (placeholders: \(placeholderNames); write {{ and }} for literal braces)")
        }
    }
}
