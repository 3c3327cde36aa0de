import Foundation

/// Whether a line of an earlier manifest is already, byte for byte, the line a resume writes for
/// its input (a skipped entry: attempts 0, the earlier run's rows, digests, provenance and frame
/// rows): then the resume copies the line instead of encoding the entry again (a resume of a
/// resumed job, 10^6 lines). Sound, not complete: anything the line writer would write
/// differently (a space, an escape, a key out of order, a key it drops or adds, a number in
/// another form) says no, and the entry is encoded as before.
///
/// The line must already have scanned (`ManifestEntry.scan`) to the entry whose encoding it is
/// compared with; the caller checks what the scan's values must be (`matches`).
enum SkippedLine {
    /// The writer's top-level keys of a skipped entry, in its (sorted) order.
    private static let keys: [StaticString] = ["attempts", "bytes", "catalog", "executor", "frames", "input",
                                               "outcome", "outputs", "provenance", "rows", "sha256"]
    private static let provenanceKeys: [StaticString] = ["finished", "inputETag", "inputModified", "inputSHA256",
                                                         "inputSize", "path", "software", "started"]

    /// `line` is in the writer's form of a skipped entry: the keys above in order (attempts,
    /// bytes, input and outcome present), attempts `0`, outcome `"skipped"`, strings without
    /// escapes, integers without sign tricks or leading zeros, frame rows without escapes (the
    /// writer copies them as they are), no spaces outside strings and frame rows.
    static func isWritersForm(_ line: UnsafeRawBufferPointer) -> Bool {
        var reader = Reader(bytes: line)
        guard let seen = reader.object(keys: keys, value: { reader, key in
            switch key {
            case 0: return reader.literal("0")
            case 1, 9: return reader.integer()
            case 2, 3, 5, 10: return reader.string()
            case 4: return reader.rawArray()
            case 6: return reader.literal("\"skipped\"")
            case 7: return reader.strings()
            case 8:
                guard let inner = reader.object(keys: provenanceKeys, value: { reader, key in
                    key == 4 ? reader.integer() : reader.string()
                }) else { return false }
                return inner & 0b1111_0000 == 0b1111_0000  // inputSize, path, software, started
            default: return false
            }
        }) else { return false }
        let required = 1 << 0 | 1 << 1 | 1 << 5 | 1 << 6  // attempts, bytes, input, outcome
        return reader.atEnd && seen & required == required
    }

    /// The scanned entry is the one a resume writes for `input` (its listed size still to match
    /// `bytes`, which `EntryTable.setBytes` checks): skipped, attempts 0, nothing a skipped entry
    /// drops, its catalog and outputs the job's names for the input.
    static func matches(_ entry: ManifestEntry, input: InputFile, outputs: [String]) -> Bool {
        entry.outcome == .skipped && entry.attempts == 0 && entry.input == input.uri && entry.bytes != nil
            && entry.catalog == outputs.first && entry.outputs == (outputs.count > 1 ? outputs : nil)
            && entry.seconds == nil && entry.waitSeconds == nil && entry.error == nil && entry.hdus == nil
            && entry.exitStatus == nil && entry.signal == nil && entry.command == nil && entry.stderr == nil
            && entry.reason == nil && entry.split == nil && entry.splitParts == nil
    }

    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        var atEnd: Bool { offset == bytes.count }

        private var current: UInt8? { offset < bytes.count ? bytes[offset] : nil }

        mutating func literal(_ text: StaticString) -> Bool {
            let count = text.utf8CodeUnitCount
            guard offset + count <= bytes.count else { return false }
            let same = text.withUTF8Buffer { expected in (0..<count).allSatisfy { bytes[offset + $0] == expected[$0] } }
            if same { offset += count }
            return same
        }

        /// An object whose keys are some of `keys`, in their order, each once; `value` reads the
        /// value of key number i. Returns the keys seen as a bit mask, nil when not in that form.
        mutating func object(keys: [StaticString], value: (inout Reader, Int) -> Bool) -> Int? {
            guard current == UInt8(ascii: "{") else { return nil }
            offset += 1
            var seen = 0, next = 0
            if current == UInt8(ascii: "}") { offset += 1; return seen }
            while true {
                guard current == UInt8(ascii: "\"") else { return nil }
                offset += 1
                // The key: the first of the remaining ones it spells, followed by `":`.
                let initial = current
                guard let found = (next..<keys.count).first(where: {
                    keys[$0].withUTF8Buffer { $0.first } == initial && literal(keys[$0])
                }),
                      current == UInt8(ascii: "\"") else { return nil }
                offset += 1
                guard current == UInt8(ascii: ":") else { return nil }
                offset += 1
                guard value(&self, found) else { return nil }
                seen |= 1 << found
                next = found + 1
                switch current {
                case UInt8(ascii: ","): offset += 1
                case UInt8(ascii: "}"): offset += 1; return seen
                default: return nil
                }
            }
        }

        /// A string without escapes or control characters (the writer copies its bytes as they are).
        mutating func string() -> Bool {
            guard current == UInt8(ascii: "\"") else { return false }
            offset += 1
            while let byte = current {
                offset += 1
                if byte == UInt8(ascii: "\"") { return true }
                if byte == UInt8(ascii: "\\") || byte < 0x20 { return false }
            }
            return false
        }

        /// `[` strings separated by `,` `]`.
        mutating func strings() -> Bool {
            guard current == UInt8(ascii: "[") else { return false }
            offset += 1
            if current == UInt8(ascii: "]") { offset += 1; return true }
            while true {
                guard string() else { return false }
                switch current {
                case UInt8(ascii: ","): offset += 1
                case UInt8(ascii: "]"): offset += 1; return true
                default: return false
                }
            }
        }

        /// An integer as `String(Int)` writes it: `0`, or an optional `-` and digits not starting with 0.
        mutating func integer() -> Bool {
            let negative = current == UInt8(ascii: "-")
            if negative { offset += 1 }
            guard isDigit, let first = current else { return false }
            offset += 1
            if first == UInt8(ascii: "0") { return !negative && !isDigit }  // not "-0", "01"
            while isDigit { offset += 1 }
            return true
        }

        private var isDigit: Bool { current.map { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) } ?? false }

        /// An array (the frame rows), copied as it is: any bytes but a backslash (rows with an
        /// escape are encoded again by `ManifestEntry.canonicalFrames`), brackets balanced
        /// outside strings.
        mutating func rawArray() -> Bool {
            guard current == UInt8(ascii: "[") else { return false }
            var depth = 0, inString = false
            while let byte = current {
                offset += 1
                if byte == UInt8(ascii: "\\") { return false }
                if byte == UInt8(ascii: "\"") { inString.toggle(); continue }
                guard !inString else { continue }
                switch byte {
                case UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1
                case UInt8(ascii: "]"), UInt8(ascii: "}"):
                    depth -= 1
                    if depth == 0 { return byte == UInt8(ascii: "]") }
                default: break
                }
            }
            return false
        }
    }
}
