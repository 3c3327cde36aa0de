import Foundation

/// A forward-only reader of JSON bytes for the driver's per-input records (task records and
/// manifest lines): it pulls typed fields out in one pass and skips or keeps as bytes what it
/// does not need, where `JSONDecoder` builds a whole tree first (most of the master's CPU per
/// input at survey scale). Malformed input throws `JSONScanner.Malformed`, never traps; nesting
/// is bounded, so hostile records cannot exhaust the stack.
struct JSONScanner {
    struct Malformed: Error, CustomStringConvertible {
        let reason: String
        let offset: Int
        var description: String { "malformed JSON at byte \(offset): \(reason)" }
    }

    static let maxDepth = 64

    private let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0

    private init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Runs `body` on a scanner over `data`; it must consume one value and nothing but spaces may follow.
    static func scan<T>(_ data: Data, _ body: (inout JSONScanner) throws -> T) throws -> T {
        try data.withUnsafeBytes { try scan(bytes: $0, body) }
    }

    /// `scan` over bytes the caller holds (a line of a manifest range, read in place).
    static func scan<T>(bytes: UnsafeRawBufferPointer, _ body: (inout JSONScanner) throws -> T) throws -> T {
        var scanner = JSONScanner(bytes)
        let value = try body(&scanner)
        scanner.skipSpace()
        guard scanner.offset == bytes.count else { throw scanner.malformed("text after the value") }
        return value
    }

    func malformed(_ reason: String) -> Malformed { Malformed(reason: reason, offset: offset) }

    // MARK: Structure

    mutating func skipSpace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x0A, 0x0D, 0x09: offset += 1
            default: return
            }
        }
    }

    /// The next byte after spaces, not consumed.
    mutating func peek() -> UInt8? {
        skipSpace()
        return offset < bytes.count ? bytes[offset] : nil
    }

    private mutating func expect(_ byte: UInt8) throws {
        guard peek() == byte else { throw malformed("expected '\(Character(Unicode.Scalar(byte)))'") }
        offset += 1
    }

    /// Calls `body` with each member's key, the scanner at its value, which `body` must consume.
    mutating func members(_ body: (inout JSONScanner, String) throws -> Void) throws {
        try expect(UInt8(ascii: "{"))
        if peek() == UInt8(ascii: "}") { offset += 1; return }
        while true {
            guard peek() == UInt8(ascii: "\"") else { throw malformed("expected a key") }
            let key = try string()
            try expect(UInt8(ascii: ":"))
            try body(&self, key)
            switch peek() {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "}"): offset += 1; return
            default: throw malformed("expected ',' or '}'")
            }
        }
    }

    /// Calls `body` with the scanner at each element, which `body` must consume.
    mutating func elements(_ body: (inout JSONScanner) throws -> Void) throws {
        try expect(UInt8(ascii: "["))
        if peek() == UInt8(ascii: "]") { offset += 1; return }
        while true {
            try body(&self)
            switch peek() {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "]"): offset += 1; return
            default: throw malformed("expected ',' or ']'")
            }
        }
    }

    /// Consumes a `null` and returns true, or returns false at anything else.
    mutating func null() -> Bool {
        guard peek() == UInt8(ascii: "n"), literal("null") else { return false }
        return true
    }

    /// Skips one value of any kind, checking its syntax.
    mutating func skipValue(depth: Int = 0) throws {
        guard depth < Self.maxDepth else { throw malformed("nested deeper than \(Self.maxDepth)") }
        switch peek() {
        case UInt8(ascii: "{"): try members { scanner, _ in try scanner.skipValue(depth: depth + 1) }
        case UInt8(ascii: "["): try elements { try $0.skipValue(depth: depth + 1) }
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"), UInt8(ascii: "f"): _ = try bool()
        case UInt8(ascii: "n"): guard null() else { throw malformed("expected a value") }
        default: _ = try numberBytes()
        }
    }

    /// Skips one value and returns its bytes, spaces around it excluded.
    mutating func rawValue() throws -> Data {
        skipSpace()
        let start = offset
        try skipValue()
        return Data(bytes[start..<offset])
    }

    // MARK: Scalars

    mutating func bool() throws -> Bool {
        if peek() == UInt8(ascii: "t"), literal("true") { return true }
        if peek() == UInt8(ascii: "f"), literal("false") { return false }
        throw malformed("expected true or false")
    }

    mutating func integer() throws -> Int {
        let start = offset
        let range = try numberBytes()
        guard let value = Self.integer(UnsafeRawBufferPointer(rebasing: bytes[range])) else {
            offset = start
            throw malformed("expected an integer, found \(text(range).prefix(40))")
        }
        return value
    }

    /// What `Int(String)` gives for a JSON number's bytes (nil for a fraction, an exponent or
    /// an overflow), without making the string.
    private static func integer(_ digits: UnsafeRawBufferPointer) -> Int? {
        var position = 0
        let negative = digits.first == UInt8(ascii: "-")
        if negative { position = 1 }
        guard position < digits.count else { return nil }
        var value = 0
        while position < digits.count {
            let byte = digits[position]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let digit = Int(byte - UInt8(ascii: "0"))
            let (times10, over1) = value.multipliedReportingOverflow(by: 10)
            let (next, over2) = negative ? times10.subtractingReportingOverflow(digit) : times10.addingReportingOverflow(digit)
            guard !over1, !over2 else { return nil }
            value = next
            position += 1
        }
        return value
    }

    mutating func double() throws -> Double {
        let start = offset
        let range = try numberBytes()
        guard let value = Self.double(UnsafeRawBufferPointer(rebasing: bytes[range])), value.isFinite else {
            offset = start
            throw malformed("expected a finite number, found \(text(range).prefix(40))")
        }
        return value
    }

    /// `Double(String)` of a checked JSON number's bytes (at most 400): `strtod` from a stack
    /// copy, as Swift's parser does, instead of a string made per number. Through the string
    /// when this process's decimal point is not "." (Swift's parser always reads the C locale).
    private static func double(_ number: UnsafeRawBufferPointer) -> Double? {
        guard decimalPointIsDot else { return Double(String(decoding: number, as: UTF8.self)) }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: number.count + 1) { buffer -> Double? in
            guard let base = buffer.baseAddress else { return nil }
            number.withMemoryRebound(to: CChar.self) { source in
                _ = buffer.initialize(from: source)
            }
            buffer[number.count] = 0
            var end: UnsafeMutablePointer<CChar>?
            errno = 0
            let value = strtod(base, &end)
            // As Swift's parser: a result out of range (0 or infinity with ERANGE) is no number.
            if value == 0 || value.isInfinite, errno == ERANGE { return nil }
            guard end == base + number.count else { return nil }
            return value
        }
    }

    /// Read once: nothing in Sextant sets the locale after its first number.
    private static let decimalPointIsDot: Bool = {
        guard let conventions = localeconv(), let point = conventions.pointee.decimal_point else { return false }
        return point[0] == CChar(UInt8(ascii: ".")) && point[1] == 0
    }()

    private func text(_ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// A number as JSON spells it (sign, digits, fraction, exponent), checked: where its bytes are.
    private mutating func numberBytes() throws -> Range<Int> {
        skipSpace()
        let start = offset
        func digits() -> Int {
            let first = offset
            while offset < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[offset]) { offset += 1 }
            return offset - first
        }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "-") { offset += 1 }
        guard digits() > 0 else { offset = start; throw malformed("expected a value") }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") {
            offset += 1
            guard digits() > 0 else { throw malformed("expected digits after '.'") }
        }
        if offset < bytes.count, bytes[offset] | 0x20 == UInt8(ascii: "e") {
            offset += 1
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-") { offset += 1 }
            guard digits() > 0 else { throw malformed("expected digits in the exponent") }
        }
        guard offset - start <= 400 else { throw malformed("a number of \(offset - start) characters") }
        return start..<offset
    }

    mutating func string() throws -> String {
        skipSpace()
        guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else { throw malformed("expected a string") }
        offset += 1
        let start = offset
        // The common case: no escapes, the bytes are the string.
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\"") {
                let text = try utf8(start..<offset)
                offset += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw malformed("a control character in a string") }
            offset += 1
        }
        var unescaped = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[start..<offset]))
        while offset < bytes.count {
            let byte = bytes[offset]
            offset += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: unescaped, as: UTF8.self) else {
                    throw malformed("a string that is not UTF-8")
                }
                return text
            case UInt8(ascii: "\\"):
                try unescape(into: &unescaped)
            case ..<0x20:
                offset -= 1
                throw malformed("a control character in a string")
            default:
                unescaped.append(byte)
            }
        }
        throw malformed("an unterminated string")
    }

    private mutating func skipString() throws {
        _ = try string()
    }

    /// ASCII (every name, digest and time in a manifest) is taken as is: `String(validating:)`
    /// looks up generic metadata on every call, 7 % of a resume's CPU at 10^6 lines.
    private func utf8(_ range: Range<Int>) throws -> String {
        let text = UnsafeRawBufferPointer(rebasing: bytes[range])
        if text.allSatisfy({ $0 < 0x80 }) { return String(decoding: text, as: UTF8.self) }
        guard let checked = String(validating: text, as: UTF8.self) else {
            throw Malformed(reason: "a string that is not UTF-8", offset: range.lowerBound)
        }
        return checked
    }

    /// The escape after a backslash, appended as UTF-8.
    private mutating func unescape(into text: inout [UInt8]) throws {
        guard offset < bytes.count else { throw malformed("an unterminated string") }
        let byte = bytes[offset]
        offset += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(byte)
        case UInt8(ascii: "b"): text.append(0x08)
        case UInt8(ascii: "f"): text.append(0x0C)
        case UInt8(ascii: "n"): text.append(0x0A)
        case UInt8(ascii: "r"): text.append(0x0D)
        case UInt8(ascii: "t"): text.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if (0xD800..<0xDC00).contains(scalar) {
                // A high surrogate must be followed by an escaped low one.
                guard offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u")
                else { throw malformed("a lone surrogate") }
                offset += 2
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low) else { throw malformed("a lone surrogate") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw malformed("a lone surrogate") }
            text.append(contentsOf: Array(String(Character(unicode)).utf8))
        default:
            offset -= 1
            throw malformed("an unknown escape")
        }
    }

    private mutating func hex4() throws -> UInt32 {
        guard offset + 4 <= bytes.count else { throw malformed("a short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw malformed("a bad \\u escape")
            }
            value = value << 4 | UInt32(digit)
            offset += 1
        }
        return value
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard offset + count <= bytes.count else { return false }
        let matches = word.withUTF8Buffer { expected in
            (0..<count).allSatisfy { bytes[offset + $0] == expected[$0] }
        }
        if matches { offset += count }
        return matches
    }
}
