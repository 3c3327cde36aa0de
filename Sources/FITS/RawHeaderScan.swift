import Foundation

/// A walk over the raw headers of every HDU in a file's bytes, before CFITSIO opens any of them,
/// refusing what CFITSIO would crash on while it moves to the HDU, before any check made through
/// CFITSIO could run (all found by scripts/fuzz/fits-libfuzzer):
/// - a table's TTYPEn is copied unchecked into a 70-byte column name: an unquoted value can fill
///   the card's value bytes, and the copy's terminator overflows;
/// - a tile-compressed image's integer keywords (ZBITPIX, ZNAXISn, ZTILEn, ZVALn, ...) are read
///   with a conversion whose error message overflows on a value of 29 bytes or more that is not
///   an integer it can hold, so each must be a plain number of at most 28 bytes;
/// - ZTILEn and the Rice BLOCKSIZE are divisors (SIGFPE on 0), every card of them: CFITSIO may
///   read a second ZTILEn card.
/// Every other size is checked later (`HeaderLimits`). A header this walk cannot follow
/// (truncated, lying sizes) ends the walk: CFITSIO then reports it in its own terms.
enum RawHeaderScan {
    static func check(_ bytes: UnsafeRawBufferPointer, name: String) throws {
        var offset = 0, hdu = 0
        while offset < bytes.count {
            let header = Header(bytes, from: offset)
            // CFITSIO copies each TTYPEn as it reads the header, before it looks for END.
            if let column = header.overlongColumnName {
                throw FITSError(file: name, reason: .invalidInput(
                    "HDU \(hdu) has an unquoted \(column) value of \(Header.columnNameBytes) bytes or more (a column name is a quoted string)"))
            }
            guard let headerBytes = header.bytes else { return }
            if header.isCompressedImage { try header.checkCompressionKeywords(hdu: hdu, name: name) }
            // Sizes past the file's end stop the walk before any sum could overflow.
            guard let data = header.dataBytes, data <= bytes.count, headerBytes <= bytes.count else { return }
            offset += headerBytes + (data + 2879) / 2880 * 2880
            hdu += 1
        }
    }

    /// The cards of one header that matter here.
    private struct Header {
        /// The last value of each structural keyword, for the data size.
        var values: [String: String] = [:]
        /// Every compression keyword CFITSIO reads as an integer, in order, duplicates included,
        /// with its value as CFITSIO's parser takes it.
        var compressionIntegers: [(keyword: String, value: String)] = []
        /// The ZVALn that hold a Rice BLOCKSIZE (from ZNAMEn = 'BLOCKSIZE').
        var blockSizeKeywords: Set<String> = []
        /// Any ZIMAGE card says T (CFITSIO may read any of several).
        var isCompressedImage = false
        /// The first TTYPEn whose unquoted value would not fit CFITSIO's column name.
        var overlongColumnName: String?
        /// CFITSIO's column name holds 69 bytes and a terminator.
        static let columnNameBytes = 69
        /// The longest integer value CFITSIO's conversion can report an error about safely.
        static let integerValueBytes = 28
        /// The header's own bytes: whole 2880-byte blocks up to the one holding END (nil: no END).
        var bytes: Int?

        init(_ file: UnsafeRawBufferPointer, from start: Int) {
            var card = start
            while card + 80 <= file.count {
                let keyword = Self.text(file, card, 8).trimmingBlanks()
                if keyword == "END" {
                    bytes = ((card - start) / 2880 + 1) * 2880
                    return
                }
                // CFITSIO takes any card with "=" in column 9 as keyed, its value from column 10.
                if file[card + 8] == UInt8(ascii: "=") {
                    let field = UnsafeRawBufferPointer(rebasing: file[card + 9..<card + 80])
                    record(keyword, Self.parsedValue(field))
                }
                card += 80
            }
        }

        private mutating func record(_ keyword: String, _ value: ParsedValue) {
            if Self.structural(keyword) { values[keyword] = value.text }
            if Self.compressionInteger(keyword) { compressionIntegers.append((keyword, value.raw)) }
            if keyword.hasPrefix("ZNAME"), value.text.uppercased() == "BLOCKSIZE" {
                blockSizeKeywords.insert("ZVAL" + keyword.dropFirst("ZNAME".count))
            }
            if keyword == "ZIMAGE", value.text == "T" { isCompressedImage = true }
            if keyword.hasPrefix("TTYPE"), !value.isQuoted, overlongColumnName == nil,
               value.rawBytes >= Self.columnNameBytes {
                overlongColumnName = keyword
            }
        }

        func integer(_ keyword: String) -> Int? { values[keyword].flatMap { Int($0) } }

        /// NAXISn x |BITPIX|/8, plus the heap, times GCOUNT; nil where it overflows or is absent.
        var dataBytes: Int? {
            guard let bitpix = integer("BITPIX"), [8, 16, 32, 64, -32, -64].contains(bitpix),
                  let axes = integer("NAXIS"), (0...999).contains(axes) else { return nil }
            var count = axes == 0 ? 0 : 1
            for axis in stride(from: 1, through: axes, by: 1) {
                guard let size = integer("NAXIS\(axis)"), size >= 0 else { return nil }
                let (product, overflow) = count.multipliedReportingOverflow(by: size)
                if overflow { return nil }
                count = product
            }
            let pcount = integer("PCOUNT") ?? 0, gcount = integer("GCOUNT") ?? 1
            guard pcount >= 0, gcount >= 0 else { return nil }
            let (withHeap, o1) = count.addingReportingOverflow(pcount)
            let (groups, o2) = withHeap.multipliedReportingOverflow(by: gcount)
            let (total, o3) = groups.multipliedReportingOverflow(by: abs(bitpix) / 8)
            return o1 || o2 || o3 ? nil : total
        }

        func checkCompressionKeywords(hdu: Int, name: String) throws {
            for (keyword, text) in compressionIntegers {
                let number = text.utf8.count <= Self.integerValueBytes ? Double(text) : nil
                guard let number else {
                    let shown = Self.printable(text.count > 40 ? String(text.prefix(40)) + "..." : text)
                    throw FITSError(file: name, reason: .invalidInput(
                        "HDU \(hdu) has \(keyword) = \(shown): not a number of at most \(Self.integerValueBytes) characters"))
                }
                // Both divide: a tile of 0 pixels or a Rice block of 0 is SIGFPE in CFITSIO.
                if keyword.hasPrefix("ZTILE"), !(number >= 1) {
                    throw FITSError(file: name, reason: .invalidInput(
                        "HDU \(hdu) has \(keyword) = \(text): compression tiles are at least 1 pixel"))
                }
                if blockSizeKeywords.contains(keyword), !(number >= 1) {
                    throw FITSError(file: name, reason: .invalidInput("HDU \(hdu) has a Rice BLOCKSIZE of \(text)"))
                }
            }
        }

        private static func structural(_ keyword: String) -> Bool {
            ["BITPIX", "PCOUNT", "GCOUNT"].contains(keyword) || keyword.hasPrefix("NAXIS")
        }

        private static func compressionInteger(_ keyword: String) -> Bool {
            ["ZBITPIX", "ZBLANK", "ZDITHER0", "ZPCOUNT", "ZGCOUNT"].contains(keyword)
                || ["ZNAXIS", "ZTILE", "ZVAL"].contains { keyword.hasPrefix($0) }
        }

        /// A card's value: `raw` as CFITSIO's parser takes it (a quoted string with its quotes,
        /// a complex number up to its closing parenthesis, anything else up to a comment, without
        /// blanks around it) and `text`, a quoted string's contents trimmed, else `raw`.
        struct ParsedValue {
            var raw = "", text = "", isQuoted = false
            /// The length of `raw` in the card's bytes.
            var rawBytes = 0
        }

        private static func parsedValue(_ field: UnsafeRawBufferPointer) -> ParsedValue {
            let blank = UInt8(ascii: " "), quote = UInt8(ascii: "'")
            guard let first = field.firstIndex(where: { $0 != blank }) else { return ParsedValue() }
            let rest = field[first...]
            if field[first] == quote {
                let inner = rest.dropFirst()
                let contents = inner.prefix { $0 != quote }
                let raw = rest.prefix(contents.count + 2)
                let text = String(decoding: contents, as: UTF8.self).trimmingBlanks()
                return ParsedValue(raw: String(decoding: raw, as: UTF8.self), text: text, isQuoted: true, rawBytes: raw.count)
            }
            let end = field[first] == UInt8(ascii: "(")
                ? (rest.firstIndex(of: UInt8(ascii: ")")).map { $0 + 1 } ?? field.count)
                : (rest.firstIndex(of: UInt8(ascii: "/")) ?? field.count)
            let value = field[first..<end]
            let trimmed = value.prefix((value.lastIndex { $0 != blank }).map { $0 - first + 1 } ?? 0)
            let raw = String(decoding: trimmed, as: UTF8.self)
            return ParsedValue(raw: raw, text: raw, isQuoted: false, rawBytes: trimmed.count)
        }

        /// A value fit for a one-line error: control characters shown as "?".
        private static func printable(_ text: String) -> String {
            String(text.unicodeScalars.map { $0.value < 32 || $0.value == 127 ? "?" : Character($0) })
        }

        private static func text(_ file: UnsafeRawBufferPointer, _ at: Int, _ count: Int) -> String {
            String(decoding: UnsafeRawBufferPointer(rebasing: file[at..<at + count]), as: UTF8.self)
        }
    }
}
