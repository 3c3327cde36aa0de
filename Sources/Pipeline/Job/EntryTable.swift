import Engine
import Foundation

/// The driver's outcome of every input, in a fixed-size typed slot per input (`CompactEntry`,
/// 168 bytes) instead of a `ManifestEntry` of a dozen heap strings (about 1.2 KB): what the input,
/// its catalog name and its relative path already say is not stored again, digests are 32 bytes,
/// times are milliseconds and executor and software names are interned.
///
/// An entry the slot cannot hold exactly (an error text, a multi-HDU list, a pipe's exit status,
/// an ETag, any field it does not know) is kept whole beside it: `compact` takes only what its
/// fields give back unchanged (and debug builds compare the slot's expansion with the entry), so
/// what `entry(at:)` returns is always what was set.
/// Thread-safe: the driver's collector writes while the scheduler's lineage check reads.
/// @unchecked: `lock` guards every var (written under its write side only).
final class EntryTable: @unchecked Sendable {
    private var slots: [CompactEntry]
    private var whole: [Int32: ManifestEntry] = [:]
    private var executors = InternTable()
    private var software = InternTable()
    /// Frame-table rows (`ManifestEntry.frames`) as their JSON (about 150-400 bytes an HDU), at the slot's `frames` span.
    private var frames = ByteArena()
    /// Why `--where` excluded an input (`ManifestEntry.reason`), beside its slot.
    private var reasons: [Int32: String] = [:]
    /// Frame rows longer than a span holds (4 GB: never from a real task; kept so nothing is lost).
    private var oversizedFrames: [Int32: Data] = [:]
    /// A resume's earlier manifest lines that are already what the manifest would say again
    /// (`EarlierLine`), by input; empty until the first is noted.
    private var earlierLines: [EarlierLine] = []
    /// Readers at once: the manifest, the frame table and the monitor each read every input
    /// concurrently at a job's end (a plain lock made them wait on each other: ~7 % of a 10^6
    /// resume's CPU in futex calls).
    private let lock = ReadWriteLock()

    init(count: Int) {
        slots = [CompactEntry](repeating: CompactEntry(), count: count)
    }

    /// Entries kept whole (for the bytes-per-input figure and tests).
    var wholeCount: Int { lock.withReadLock { whole.count } }

    /// Bytes of frame rows held (for the bytes-per-input figure and tests).
    var frameBytes: Int { lock.withReadLock { frames.byteCount } }

    /// `framesJSON`: the entry's frame rows as the JSON they arrived in, kept as is (then
    /// `entry.frames` is ignored); without it, `entry.frames` is encoded.
    func set(_ entry: ManifestEntry, at index: Int, input: InputFile, outputs: [String], framesJSON: Data? = nil) {
        var entry = entry
        let rows = framesJSON ?? entry.frames.flatMap { try? ManifestEntry.lineEncoder().encode($0) }
        let reason = entry.reason
        entry.frames = nil
        entry.reason = nil
        lock.withWriteLock {
            reasons[Int32(index)] = reason
            var slot: CompactEntry
            if let compacted = compact(entry, input: input, outputs: outputs) {
                assert(expand(compacted, input: input, outputs: outputs,
                              executor: compacted.present.contains(.executor) ? executors.name(compacted.executor) : nil,
                              software: compacted.present.contains(.provenance) ? software.name(compacted.software) : nil)
                       == entry, "a slot that changes its entry")
                slot = compacted
                whole[Int32(index)] = nil
            } else {
                slot = CompactEntry(outcome: Self.wholeMarker)
                whole[Int32(index)] = entry
            }
            let span = rows.flatMap { frames.append($0) }
            if let span {
                slot.frames = span
                slot.present.insert(.frames)
            }
            oversizedFrames[Int32(index)] = span == nil ? rows : nil
            slots[index] = slot
            forgetEarlierLine(at: index)
        }
    }

    /// Input `index`'s entry, as set, is byte for byte its line at `range` of the earlier
    /// manifest (`SkippedLine`): the manifest may copy that line. Any later change but a
    /// `setBytes` to the entry's own size forgets it.
    func noteEarlierLine(_ range: Range<Int>, at index: Int) {
        guard let line = EarlierLine(range) else { return }
        lock.withWriteLock {
            if earlierLines.isEmpty { earlierLines = [EarlierLine](repeating: EarlierLine(), count: slots.count) }
            earlierLines[index] = line
        }
    }

    /// The range of the earlier manifest that is input `index`'s line as the manifest writes it, if any.
    func earlierLine(at index: Int) -> Range<Int>? {
        lock.withReadLock { earlierLines.isEmpty ? nil : earlierLines[index].range }
    }

    /// Under the lock.
    private func forgetEarlierLine(at index: Int) {
        if !earlierLines.isEmpty { earlierLines[index] = EarlierLine() }
    }

    /// The entry set at `index`, or nil when none was.
    func entry(at index: Int, input: InputFile, outputs: [String]) -> ManifestEntry? {
        guard let found = entryAndFrames(at: index, input: input, outputs: outputs) else { return nil }
        var entry = found.entry
        entry.frames = found.frames.flatMap { try? FrameRow.scanList($0) }
        return entry
    }

    /// The entry set at `index` without its frame rows, and those rows as JSON; nil when none was.
    /// The slot is expanded after the lock is released: the manifest's and the frame table's
    /// writers read the table at once.
    func entryAndFrames(at index: Int, input: InputFile, outputs: [String]) -> (entry: ManifestEntry, frames: Data?)? {
        guard let found = stored(at: index) else { return nil }
        var entry = found.whole ?? expand(found.slot, input: input, outputs: outputs,
                                          executor: found.executor, software: found.software)
        entry.reason = found.reason
        return (entry, found.rows)
    }

    /// The entry without what only the manifest writes (digests, provenance, `outputs`), and the
    /// frame rows as JSON: what the frame table, the job's tally and progress read. A whole
    /// entry is returned whole.
    func summary(at index: Int, input: InputFile, outputs: [String]) -> (entry: ManifestEntry, frames: Data?)? {
        guard let found = stored(at: index) else { return nil }
        if var entry = found.whole {
            entry.reason = found.reason
            return (entry, found.rows)
        }
        let slot = found.slot, has = slot.present
        var entry = ManifestEntry(
            input: input.uri, catalog: has.contains(.catalog) ? outputs.first : nil,
            outcome: Self.outcomes[Int(slot.outcome)] ?? .notRun, attempts: Int(slot.attempts),
            rows: has.contains(.rows) ? Int(slot.rows) : nil, bytes: has.contains(.bytes) ? Int(slot.bytes) : nil,
            seconds: has.contains(.seconds) ? slot.seconds : nil, executor: has.contains(.executor) ? found.executor : nil)
        entry.waitSeconds = has.contains(.waitSeconds) ? slot.waitSeconds : nil
        entry.reason = found.reason
        return (entry, found.rows)
    }

    private struct Stored {
        var slot: CompactEntry
        var whole: ManifestEntry?
        var rows: Data?
        var reason: String?
        var executor: String?
        var software: String?
    }

    /// Input `index`'s slot and what sits beside it, copied under the lock; nil when none was set.
    private func stored(at index: Int) -> Stored? {
        lock.withReadLock {
            let slot = slots[index]
            guard slot.outcome != 0 else { return nil }
            let key = Int32(index)
            let rows = slot.present.contains(.frames) ? frames.data(slot.frames) : oversizedFrames[key]
            if slot.outcome == Self.wholeMarker {
                guard let entry = whole[key] else { return nil }
                return Stored(slot: slot, whole: entry, rows: rows, reason: reasons[key])
            }
            return Stored(slot: slot, rows: rows, reason: reasons[key],
                          executor: slot.present.contains(.executor) ? executors.name(slot.executor) : nil,
                          software: slot.present.contains(.provenance) ? software.name(slot.software) : nil)
        }
    }

    func outcome(at index: Int) -> ManifestEntry.Outcome? {
        lock.withReadLock {
            let slot = slots[index]
            if slot.outcome == Self.wholeMarker { return whole[Int32(index)]?.outcome }
            return Int(slot.outcome) < Self.outcomes.count ? Self.outcomes[Int(slot.outcome)] : nil
        }
    }

    func setAttempts(_ attempts: Int, at index: Int) {
        lock.withWriteLock {
            forgetEarlierLine(at: index)
            if slots[index].outcome == Self.wholeMarker { whole[Int32(index)]?.attempts = attempts }
            else if let value = Int32(exactly: attempts) { slots[index].attempts = value }
        }
    }

    /// Sets the entry at `index`'s `bytes` (a resume's listed size of a catalog whose entry came
    /// from the earlier manifest).
    func setBytes(_ bytes: Int, at index: Int) {
        lock.withWriteLock {
            let had = slots[index].outcome == Self.wholeMarker ? whole[Int32(index)]?.bytes
                : slots[index].present.contains(.bytes) ? Int(slots[index].bytes) : nil
            if had != bytes { forgetEarlierLine(at: index) }
            if slots[index].outcome == Self.wholeMarker { whole[Int32(index)]?.bytes = bytes }
            else if slots[index].outcome != 0 {
                slots[index].bytes = Int64(bytes)
                slots[index].present.insert(.bytes)
            }
        }
    }

    /// No entry at `index` any more (its frame rows' bytes stay in the arena until the table goes).
    func clear(at index: Int) {
        lock.withWriteLock {
            guard slots[index].outcome != 0 else { return }
            slots[index] = CompactEntry()
            whole[Int32(index)] = nil
            reasons[Int32(index)] = nil
            oversizedFrames[Int32(index)] = nil
            forgetEarlierLine(at: index)
        }
    }

    // MARK: The slot

    private static let outcomes: [ManifestEntry.Outcome?] = [nil, .committed, .skipped, .failed, .notRun, .excluded]
    private static let wholeMarker: UInt8 = 255

    /// The slot of `entry`, or nil unless `expand` gives exactly `entry` back: the names it takes
    /// from the input must be the input's, and every field it converts must convert back unchanged
    /// (digests in lower-case hex, times in `Timestamp`'s form, finite seconds). Allocates nothing.
    private func compact(_ entry: ManifestEntry, input: InputFile, outputs: [String]) -> CompactEntry? {
        guard entry.error == nil, entry.hdus == nil, entry.exitStatus == nil, entry.signal == nil,
              entry.command == nil, entry.stderr == nil, entry.split == nil, entry.splitParts == nil,
              entry.frames == nil, entry.reason == nil, entry.input == input.uri,
              entry.catalog == nil || entry.catalog == outputs.first,
              entry.outputs == nil || entry.outputs == outputs,
              entry.provenance == nil || entry.provenance?.path == input.relativePath,
              entry.seconds?.isFinite != false, entry.waitSeconds?.isFinite != false,
              let outcome = Self.outcomes.firstIndex(of: entry.outcome),
              let attempts = Int32(exactly: entry.attempts) else { return nil }
        var slot = CompactEntry(outcome: UInt8(outcome))
        slot.attempts = attempts
        func mark(_ field: CompactEntry.Field) { slot.present.insert(field) }
        if entry.catalog != nil { mark(.catalog) }
        if entry.outputs != nil { mark(.outputs) }
        if let rows = entry.rows { guard let value = Int32(exactly: rows) else { return nil }; slot.rows = value; mark(.rows) }
        if let bytes = entry.bytes { slot.bytes = Int64(bytes); mark(.bytes) }
        if let seconds = entry.seconds { slot.seconds = seconds; mark(.seconds) }
        if let wait = entry.waitSeconds { slot.waitSeconds = wait; mark(.waitSeconds) }
        if let sha = entry.sha256 { guard let digest = Digest256(hex: sha) else { return nil }; slot.sha256 = digest; mark(.sha256) }
        if let executor = entry.executor { guard let id = executors.id(of: executor) else { return nil }; slot.executor = id; mark(.executor) }
        if let provenance = entry.provenance {
            mark(.provenance)
            if let sha = provenance.inputSHA256 {
                guard let digest = Digest256(hex: sha) else { return nil }
                slot.inputSHA256 = digest
                mark(.inputSHA256)
            }
            slot.inputSize = provenance.inputSize
            if let etag = provenance.inputETag {
                // S3's ETag of a one-part upload is its MD5 in quotes: 16 bytes; any other form is kept whole.
                guard let md5 = ETag128(etag) else { return nil }
                slot.inputETag = md5
                mark(etag.hasPrefix("\"") ? .inputETag : .inputETagBare)
            }
            if let modified = provenance.inputModified {
                guard let ms = MillisecondTime.parse(modified) else { return nil }
                slot.modified = ms
                mark(.modified)
            }
            guard let softwareID = software.id(of: provenance.software),
                  let started = MillisecondTime.parse(provenance.started) else { return nil }
            slot.software = softwareID
            slot.started = started
            if let finished = provenance.finished {
                guard let ms = MillisecondTime.parse(finished) else { return nil }
                slot.finished = ms
                mark(.finished)
            }
        }
        return slot
    }

    /// `executor` and `software`: the slot's interned names (looked up under the lock).
    private func expand(_ slot: CompactEntry, input: InputFile, outputs: [String], executor: String?,
                        software: String?) -> ManifestEntry {
        let has = slot.present
        var entry = ManifestEntry(
            input: input.uri, catalog: has.contains(.catalog) ? outputs.first : nil,
            outcome: Self.outcomes[Int(slot.outcome)] ?? .notRun, attempts: Int(slot.attempts),
            rows: has.contains(.rows) ? Int(slot.rows) : nil, bytes: has.contains(.bytes) ? Int(slot.bytes) : nil,
            sha256: has.contains(.sha256) ? slot.sha256.hex : nil, seconds: has.contains(.seconds) ? slot.seconds : nil,
            executor: has.contains(.executor) ? executor : nil,
            outputs: has.contains(.outputs) ? outputs : nil)
        entry.waitSeconds = has.contains(.waitSeconds) ? slot.waitSeconds : nil
        if has.contains(.provenance) {
            entry.provenance = InputProvenance(
                inputSHA256: has.contains(.inputSHA256) ? slot.inputSHA256.hex : nil, inputSize: slot.inputSize,
                inputETag: has.contains(.inputETag) ? "\"\(slot.inputETag.hex)\""
                    : has.contains(.inputETagBare) ? slot.inputETag.hex : nil,
                inputModified: has.contains(.modified) ? MillisecondTime.string(slot.modified) : nil,
                path: input.relativePath, software: software ?? "",
                started: MillisecondTime.string(slot.started),
                finished: has.contains(.finished) ? MillisecondTime.string(slot.finished) : nil)
        }
        return entry
    }
}

/// Where an input's line sits in the earlier manifest, in 8 bytes: 40 bits of offset (1 TB),
/// 24 of length (16 MB; a longer line is encoded again). Length 0: none.
struct EarlierLine {
    private var packed: UInt64 = 0

    init() {}

    init?(_ range: Range<Int>) {
        guard range.lowerBound >= 0, range.lowerBound < 1 << 40, range.count > 0, range.count < 1 << 24 else { return nil }
        packed = UInt64(range.lowerBound) << 24 | UInt64(range.count)
    }

    var range: Range<Int>? {
        let count = Int(packed & 0xFF_FFFF)
        guard count > 0 else { return nil }
        let start = Int(packed >> 24)
        return start..<start + count
    }
}

/// One input's outcome in 168 bytes (164 and alignment); which optional fields are set is `present`.
struct CompactEntry {
    struct Field: OptionSet {
        let rawValue: UInt16
        static let catalog = Field(rawValue: 1 << 0), outputs = Field(rawValue: 1 << 1)
        static let rows = Field(rawValue: 1 << 2), bytes = Field(rawValue: 1 << 3)
        static let seconds = Field(rawValue: 1 << 4), sha256 = Field(rawValue: 1 << 5)
        static let executor = Field(rawValue: 1 << 6), provenance = Field(rawValue: 1 << 7)
        static let inputSHA256 = Field(rawValue: 1 << 8), modified = Field(rawValue: 1 << 9)
        static let finished = Field(rawValue: 1 << 10), waitSeconds = Field(rawValue: 1 << 11)
        static let inputETag = Field(rawValue: 1 << 12), inputETagBare = Field(rawValue: 1 << 13)
        /// Frame rows in the table's arena (a whole entry's too).
        static let frames = Field(rawValue: 1 << 14)
    }

    /// 0: no entry yet; an index of `EntryTable.outcomes`; 255: kept whole.
    var outcome: UInt8 = 0
    var present: Field = []
    var executor: UInt16 = 0
    var software: UInt16 = 0
    var attempts: Int32 = 0
    var rows: Int32 = 0
    var bytes: Int64 = 0
    var seconds: Double = 0
    var waitSeconds: Double = 0
    var sha256 = Digest256()
    var inputSHA256 = Digest256()
    var inputSize: Int64 = 0
    var inputETag = ETag128()
    /// Milliseconds since 1970 (`MillisecondTime`).
    var started: Int64 = 0
    var finished: Int64 = 0
    var modified: Int64 = 0
    var frames = ByteArena.Span()
}

/// A SHA-256 as 32 bytes, from and to its 64 lower-case hex digits.
struct Digest256: Equatable {
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    init() {}

    init?(hex: String) {
        var text = hex
        guard let words = text.withUTF8({ utf8 -> (UInt64, UInt64, UInt64, UInt64)? in
            guard utf8.count == 64, let a = HexWords.word(utf8, at: 0), let b = HexWords.word(utf8, at: 16),
                  let c = HexWords.word(utf8, at: 32), let d = HexWords.word(utf8, at: 48) else { return nil }
            return (a, b, c, d)
        }) else { return nil }
        self.words = words
    }

    static func == (a: Digest256, b: Digest256) -> Bool { a.words == b.words }

    var hex: String { HexWords.string([words.0, words.1, words.2, words.3]) }
}

/// 64-bit words as their 16 lower-case hex digits each, zero-padded (digests and ETags in slots).
enum HexWords {
    /// The 16 lower-case hex digits at `start` as a word; nil at any other byte (upper case
    /// would not come back the same).
    static func word(_ utf8: UnsafeBufferPointer<UInt8>, at start: Int) -> UInt64? {
        var word: UInt64 = 0
        for byte in utf8[start..<start + 16] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            word = word << 4 | UInt64(digit)
        }
        return word
    }

    static func string(_ words: [UInt64]) -> String {
        String(unsafeUninitializedCapacity: words.count * 16) { buffer in
            let digits: StaticString = "0123456789abcdef"
            for (position, word) in words.enumerated() {
                for nibble in 0..<16 {
                    buffer[position * 16 + nibble] = digits.utf8Start[Int(word >> (60 - 4 * UInt64(nibble)) & 0xF)]
                }
            }
            return words.count * 16
        }
    }
}

/// An S3 ETag that is an MD5 (32 lower-case hex digits, in quotes or bare) as 16 bytes.
struct ETag128: Equatable {
    private var high: UInt64 = 0, low: UInt64 = 0

    init() {}

    init?(_ text: String) {
        var digits = Substring(text)
        if digits.hasPrefix("\""), digits.hasSuffix("\""), digits.count == 34 {
            digits = digits.dropFirst().dropLast()
        }
        guard digits.count == 32, digits.allSatisfy({ ("0"..."9").contains($0) || ("a"..."f").contains($0) }),
              let high = UInt64(digits.prefix(16), radix: 16), let low = UInt64(digits.suffix(16), radix: 16)
        else { return nil }
        (self.high, self.low) = (high, low)
    }

    var hex: String { HexWords.string([high, low]) }
}

/// `Timestamp.string`'s form (`2026-12-01T19:24:39.123Z`) as milliseconds since 1970, and back.
enum MillisecondTime {
    static func parse(_ text: String) -> Int64? {
        var text = text
        return text.withUTF8(parse)
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard bytes.count == 24, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
              bytes[19] == UInt8(ascii: "."), bytes[23] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for byte in bytes[range] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              let ms = number(20..<23), (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
              hour < 24, minute < 60, second < 60 else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        return ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + ms
    }

    /// February 30 would parse to March 2 and not come back the same.
    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func string(_ milliseconds: Int64) -> String {
        let (dayCount, inDay) = floorDivide(milliseconds, 86_400_000)
        let (year, month, day) = civil(fromDays: dayCount)
        guard (0...9999).contains(year) else { return paddedString(year: year, month: month, day: day, inDay: inDay) }
        // Written into 24 bytes directly: this runs twice an input when the manifest is written.
        return String(unsafeUninitializedCapacity: 24) { buffer in
            func put(_ value: Int64, at start: Int, width: Int) {
                var value = value
                for position in stride(from: start + width - 1, through: start, by: -1) {
                    buffer[position] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
            }
            put(year, at: 0, width: 4); buffer[4] = UInt8(ascii: "-")
            put(month, at: 5, width: 2); buffer[7] = UInt8(ascii: "-")
            put(day, at: 8, width: 2); buffer[10] = UInt8(ascii: "T")
            put(inDay / 3_600_000, at: 11, width: 2); buffer[13] = UInt8(ascii: ":")
            put(inDay / 60_000 % 60, at: 14, width: 2); buffer[16] = UInt8(ascii: ":")
            put(inDay / 1000 % 60, at: 17, width: 2); buffer[19] = UInt8(ascii: ".")
            put(inDay % 1000, at: 20, width: 3); buffer[23] = UInt8(ascii: "Z")
            return 24
        }
    }

    /// Years outside 0...9999 (never from `Timestamp`), as before.
    private static func paddedString(year: Int64, month: Int64, day: Int64, inDay: Int64) -> String {
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(inDay / 3_600_000, 2)):"
            + "\(pad(inDay / 60_000 % 60, 2)):\(pad(inDay / 1000 % 60, 2)).\(pad(inDay % 1000, 3))Z"
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let quotient = a >= 0 ? a / b : (a - b + 1) / b
        return (quotient, a - quotient * b)
    }

    // Howard Hinnant's civil-calendar algorithms (days since 1970-01-01, proleptic Gregorian).
    private static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

/// Names seen many times (executors, software versions) stored once; ids start at 1.
struct InternTable {
    private var names: [String] = []
    private var ids: [String: UInt16] = [:]

    mutating func id(of name: String) -> UInt16? {
        if let id = ids[name] { return id }
        guard names.count < Int(UInt16.max) - 1 else { return nil }
        names.append(name)
        let id = UInt16(names.count)
        ids[name] = id
        return id
    }

    func name(_ id: UInt16) -> String { names[Int(id) - 1] }
}
