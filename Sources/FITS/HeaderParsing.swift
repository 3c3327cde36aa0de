import Foundation
import CFITSIO

extension FITSHeader {
    /// Parses 80-character header records (as ffcnvthdr2str returns them), joining long strings
    /// continued on CONTINUE cards. The END card, if present, is dropped.
    init(records: [String]) {
        var cards: [FITSCard] = []
        var kept: [String] = []
        for record in records {
            let card = Self.parse(record)
            if card.keyword == "END" { break }
            kept.append(record)
            if card.keyword == "CONTINUE", let last = cards.last,
               case .string(let head)? = last.value, head.hasSuffix("&"),
               case .string(let tail)? = Self.continuationValue(record) {
                cards[cards.count - 1].value = .string(String(head.dropLast()) + tail)
                continue
            }
            cards.append(card)
        }
        self.init(cards: cards, records: kept)
    }

    /// Parses header text: 80-character records back to back (as in a file or a .hdr dump).
    public init(headerText: String) {
        let bytes = Array(headerText.utf8)
        let records = stride(from: 0, to: bytes.count, by: 80).map {
            String(decoding: bytes[$0..<min($0 + 80, bytes.count)], as: UTF8.self)
        }
        self.init(records: records)
    }

    static func parse(_ record: String) -> FITSCard {
        var status: Int32 = 0
        var card = Array(record.utf8CString)
        var name = [CChar](repeating: 0, count: Int(FLEN_KEYWORD) + 1)
        var length: Int32 = 0
        _ = ffgknm(&card, &name, &length, &status)
        let keyword = status == 0 ? String(cString: name) : String(record.prefix(8))
        let (valueText, comment) = valueAndComment(card)
        if valueText == nil {
            // Commentary card: everything after the keyword is text.
            let text = record.utf8.count > 8 ? String(decoding: record.utf8.dropFirst(8), as: UTF8.self) : ""
            return FITSCard(keyword.trimmingBlanks(), nil,
                            comment: text.trimmingTrailingSpaces())
        }
        return FITSCard(keyword, valueText.flatMap(FITSValue.init(fitsText:)), comment: comment)
    }

    /// CFITSIO's own split of a card into value text and comment; nil value for commentary cards.
    private static func valueAndComment(_ card: [CChar]) -> (String?, String) {
        var status: Int32 = 0
        var card = card
        var value = [CChar](repeating: 0, count: Int(FLEN_VALUE) + 1)
        var comment = [CChar](repeating: 0, count: Int(FLEN_COMMENT) + 1)
        _ = ffpsvc(&card, &value, &comment, &status)
        let hasValue = card.count > 9 && card[8] == 0x3D /* = */ && card[9] == 0x20
            || String(cString: card).hasPrefix("HIERARCH")
        guard status == 0, hasValue else { return (nil, "") }
        return (String(cString: value), String(cString: comment))
    }

    /// The string on a `CONTINUE  'more text&'` card.
    private static func continuationValue(_ record: String) -> FITSValue? {
        guard record.count > 10 else { return nil }
        let asValueCard = "CONTVAL = " + record.dropFirst(10)  // ffpsvc reads no value on CONTINUE itself
        let (text, _) = valueAndComment(Array(asValueCard.utf8CString))
        return text.flatMap(FITSValue.init(fitsText:))
    }
}

extension String {
    /// Without leading and trailing blanks (space, tab): a header's text is ASCII, and Foundation's
    /// `trimmingCharacters(in: .whitespaces)` bridges to NSString, a tenth of a small image's task.
    func trimmingBlanks() -> String {
        trimmed(leading: true) { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
    }

    /// Without its trailing spaces. Counted in bytes: a Substring's `dropLast()` counts its
    /// Characters each time, which made a header of commentary cards quadratic.
    func trimmingTrailingSpaces() -> String {
        trimmed(leading: false) { $0 == UInt8(ascii: " ") }
    }

    private func trimmed(leading: Bool, isBlank: (UInt8) -> Bool) -> String {
        let bytes = utf8
        let start = leading ? bytes.firstIndex { !isBlank($0) } ?? bytes.endIndex : bytes.startIndex
        var end = bytes.endIndex
        while end > start, isBlank(bytes[bytes.index(before: end)]) { end = bytes.index(before: end) }
        return start == bytes.startIndex && end == bytes.endIndex ? self : String(decoding: bytes[start..<end], as: UTF8.self)
    }
}
