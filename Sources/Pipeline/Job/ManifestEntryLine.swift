import Foundation

/// Writing one manifest line from the entry's typed fields, byte for byte what `JSONEncoder`
/// with sorted keys and unescaped slashes writes (the tests hold it to that), without its
/// per-call boxing: frame rows that arrived as JSON are copied in as they are.
extension ManifestEntry {
    /// Appends the entry's JSON (no newline) to `line`; `frames`, when given, replaces `self.frames`.
    func appendJSON(to line: inout [UInt8], frames framesJSON: Data? = nil) throws {
        var object = JSONObjectWriter(&line)
        // In sorted key order.
        object.integer("attempts", attempts, &line)
        object.integer("bytes", bytes, &line)
        object.string("catalog", catalog, &line)
        object.string("command", command, &line)
        object.string("error", error, &line)
        object.string("executor", executor, &line)
        object.integer("exitStatus", exitStatus, &line)
        if let framesJSON { object.raw("frames", framesJSON, &line) } else { try object.encoded("frames", frames, &line) }
        try object.encoded("hdus", hdus, &line)
        object.string("input", input, &line)
        object.string("outcome", outcome.rawValue, &line)
        if let outputs {
            object.key("outputs", &line)
            line.append(UInt8(ascii: "["))
            for (position, output) in outputs.enumerated() {
                if position > 0 { line.append(UInt8(ascii: ",")) }
                JSONObjectWriter.appendString(output, to: &line)
            }
            line.append(UInt8(ascii: "]"))
        }
        if let provenance {
            object.key("provenance", &line)
            var inner = JSONObjectWriter(&line)
            inner.string("finished", provenance.finished, &line)
            inner.string("inputETag", provenance.inputETag, &line)
            inner.string("inputModified", provenance.inputModified, &line)
            inner.string("inputSHA256", provenance.inputSHA256, &line)
            inner.integer("inputSize", Int(provenance.inputSize), &line)
            inner.string("path", provenance.path, &line)
            inner.string("software", provenance.software, &line)
            inner.string("started", provenance.started, &line)
            line.append(UInt8(ascii: "}"))
        }
        object.string("reason", reason, &line)
        object.integer("rows", rows, &line)
        try object.double("seconds", seconds, &line)
        object.string("sha256", sha256, &line)
        object.integer("signal", signal, &line)
        if let split {
            object.key("split", &line)
            line.append(contentsOf: split ? Array("true".utf8) : Array("false".utf8))
        }
        try object.encoded("splitParts", splitParts, &line)
        object.string("stderr", stderr, &line)
        try object.double("waitSeconds", waitSeconds, &line)
        line.append(UInt8(ascii: "}"))
    }
}

/// Appends one JSON object's members to a line, in the order given (callers give them sorted);
/// the caller opens with `init` and appends the closing brace.
struct JSONObjectWriter {
    private var first = true

    init(_ line: inout [UInt8]) {
        line.append(UInt8(ascii: "{"))
    }

    mutating func key(_ name: StaticString, _ line: inout [UInt8]) {
        if !first { line.append(UInt8(ascii: ",")) }
        first = false
        line.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { line.append(contentsOf: $0) }
        line.append(UInt8(ascii: "\""))
        line.append(UInt8(ascii: ":"))
    }

    mutating func string(_ name: StaticString, _ value: String?, _ line: inout [UInt8]) {
        guard let value else { return }
        key(name, &line)
        Self.appendString(value, to: &line)
    }

    mutating func integer(_ name: StaticString, _ value: Int?, _ line: inout [UInt8]) {
        guard let value else { return }
        key(name, &line)
        line.append(contentsOf: String(value).utf8)
    }

    /// As JSONEncoder writes a Double: its shortest round-trip form, without a trailing ".0".
    mutating func double(_ name: StaticString, _ value: Double?, _ line: inout [UInt8]) throws {
        guard let value else { return }
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "\(name) is not finite"))
        }
        key(name, &line)
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        line.append(contentsOf: text.utf8)
    }

    mutating func raw(_ name: StaticString, _ json: Data, _ line: inout [UInt8]) {
        key(name, &line)
        line.append(contentsOf: json)
    }

    /// A rare nested value, through the manifest's own encoder.
    mutating func encoded<T: Encodable>(_ name: StaticString, _ value: T?, _ line: inout [UInt8]) throws {
        guard let value else { return }
        raw(name, try ManifestEntry.lineEncoder().encode(value), &line)
    }

    /// A JSON string as JSONEncoder escapes it: quote, backslash and control characters; "/" as is.
    static func appendString(_ text: String, to line: inout [UInt8]) {
        line.append(UInt8(ascii: "\""))
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            line.append(contentsOf: text.utf8)
            line.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): line.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): line.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: line.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: line.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0A: line.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: line.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: line.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case ..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                line.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                         hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: line.append(byte)
            }
        }
        line.append(UInt8(ascii: "\""))
    }
}
