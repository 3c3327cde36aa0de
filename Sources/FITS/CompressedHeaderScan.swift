import Foundation

/// A walk over the raw headers of every HDU in a file's bytes, before CFITSIO opens any of them:
/// CFITSIO divides by a tile-compressed image's ZTILEn and its Rice BLOCKSIZE while it moves to
/// the HDU (SIGFPE on 0, found by scripts/fuzz/fits-libfuzzer), before any check made through
/// CFITSIO could run. Only those values are refused here; every other size is checked later
/// (`HeaderLimits`). A header this walk cannot follow (truncated, lying sizes) ends the walk:
/// CFITSIO then reports it in its own terms.
enum CompressedHeaderScan {
    static func check(_ bytes: UnsafeRawBufferPointer, name: String) throws {
        var offset = 0, hdu = 0
        while offset < bytes.count, let header = Header(bytes, from: offset) {
            if header.isCompressedImage { try header.checkDivisors(hdu: hdu, name: name) }
            // Sizes past the file's end stop the walk before any sum could overflow.
            guard let data = header.dataBytes, data <= bytes.count, header.bytes <= bytes.count else { return }
            offset += header.bytes + (data + 2879) / 2880 * 2880
            hdu += 1
        }
    }

    /// The cards of one header that matter here, by keyword.
    private struct Header {
        var values: [String: String] = [:]
        /// The header's own bytes: whole 2880-byte blocks up to the one holding END.
        var bytes = 0

        init?(_ file: UnsafeRawBufferPointer, from start: Int) {
            var card = start
            while card + 80 <= file.count {
                let keyword = Self.text(file, card, 8).trimmingCharacters(in: .whitespaces)
                if keyword == "END" {
                    bytes = ((card - start) / 2880 + 1) * 2880
                    return
                }
                if Self.text(file, card + 8, 2) == "= ", Self.matters(keyword) {
                    let raw = Self.text(file, card + 10, 70)
                    values[keyword] = Self.value(of: raw)
                }
                card += 80
            }
            return nil
        }

        var isCompressedImage: Bool { values["ZIMAGE"] == "T" }

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

        func checkDivisors(hdu: Int, name: String) throws {
            for (keyword, text) in values where keyword.hasPrefix("ZTILE") {
                if let tile = Int(text), tile < 1 {
                    throw FITSError(file: name, reason: .invalidInput("HDU \(hdu) has \(keyword) = \(tile): compression tiles are at least 1 pixel"))
                }
            }
            for (keyword, text) in values where keyword.hasPrefix("ZNAME") && text.uppercased() == "BLOCKSIZE" {
                if let size = integer("ZVAL" + keyword.dropFirst("ZNAME".count)), size < 1 {
                    throw FITSError(file: name, reason: .invalidInput("HDU \(hdu) has a Rice BLOCKSIZE of \(size)"))
                }
            }
        }

        private static func matters(_ keyword: String) -> Bool {
            ["BITPIX", "NAXIS", "PCOUNT", "GCOUNT", "ZIMAGE"].contains(keyword)
                || ["NAXIS", "ZTILE", "ZNAME", "ZVAL"].contains { keyword.hasPrefix($0) }
        }

        private static func text(_ file: UnsafeRawBufferPointer, _ at: Int, _ count: Int) -> String {
            String(decoding: UnsafeRawBufferPointer(rebasing: file[at..<at + count]), as: UTF8.self)
        }

        /// A card's value: a quoted string's text, else the part before any comment, trimmed.
        private static func value(of raw: String) -> String {
            let trimmed = raw.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("'") {
                let inner = trimmed.dropFirst()
                return String(inner.prefix { $0 != "'" }).trimmingCharacters(in: .whitespaces)
            }
            return String(trimmed.prefix { $0 != "/" }).trimmingCharacters(in: .whitespaces)
        }
    }
}
