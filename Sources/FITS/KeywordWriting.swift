import CFITSIO
import Foundation

extension CFITSIOFile {
    /// Appends cards to the current HDU's header, in order. Reals are written in Swift's shortest
    /// round-trip form, so a value reads back exactly and the bytes never depend on a locale.
    func write(_ cards: [FITSCard], reserved: Set<String>) throws {
        let continued = cards.contains {
            guard case .string(let text)? = $0.value else { return false }
            return text.utf8.count + text.filter { $0 == "'" }.count > 68
        }
        if continued {
            // Announce the CONTINUE convention (LONGSTRN), as fitsverify recommends.
            try call("writing LONGSTRN") { ffplsw(pointer, &$0) }
        }
        for card in cards {
            try write(card, reserved: reserved)
        }
    }

    private func write(_ card: FITSCard, reserved: Set<String>) throws {
        let keyword = card.keyword.uppercased()
        try Self.validate(keyword: keyword, reserved: reserved, file: name)
        switch card.value {
        case nil where keyword == "COMMENT":
            try call("writing a COMMENT card") { ffpcom(pointer, card.comment, &$0) }
        case nil where keyword == "HISTORY":
            try call("writing a HISTORY card") { ffphis(pointer, card.comment, &$0) }
        case nil:
            try call("writing keyword \(keyword)") { ffpkyu(pointer, keyword, card.comment, &$0) }
        case .string(let text)?:
            // ffpkls quotes the text and continues it on CONTINUE cards when it is long.
            try call("writing keyword \(keyword)") { ffpkls(pointer, keyword, text, card.comment, &$0) }
        case .bool(let flag)?:
            try call("writing keyword \(keyword)") { ffpkyl(pointer, keyword, flag ? 1 : 0, card.comment, &$0) }
        case .int(let number)?:
            try call("writing keyword \(keyword)") { ffpkyj(pointer, keyword, Int64(number), card.comment, &$0) }
        case .double(let number)?:
            guard number.isFinite else {
                throw FITSError(file: name, reason: .invalidInput(
                    "keyword \(keyword) has the value \(number), which FITS cannot store"))
            }
            try writeFormatted(keyword, "\(number)".uppercased(), comment: card.comment)
        }
    }

    private func writeFormatted(_ keyword: String, _ value: String, comment: String) throws {
        var record = [CChar](repeating: 0, count: Int(FLEN_CARD) + 1)
        var value = Array(value.utf8CString)
        try call("formatting keyword \(keyword)") { ffmkky(keyword, &value, comment, &record, &$0) }
        try call("writing keyword \(keyword)") { ffprec(pointer, record, &$0) }
    }

    /// Standard 8-character names only; the structure keywords are the writer's to set.
    private static func validate(keyword: String, reserved: Set<String>, file: String) throws {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
        guard !keyword.isEmpty, keyword.count <= 8, keyword.allSatisfy(allowed.contains) else {
            throw FITSError(file: file, reason: .invalidInput(
                "'\(keyword)' is not a FITS keyword name (1 to 8 of A-Z 0-9 - _)"))
        }
        let structural = ["SIMPLE", "BITPIX", "EXTEND", "XTENSION", "PCOUNT", "GCOUNT", "END"]
        let isStructural = structural.contains(keyword) || keyword.hasPrefix("NAXIS")
            || reserved.contains(keyword)
            || reserved.contains { $0.hasSuffix("n") && keyword.hasPrefix($0.dropLast())
                && keyword.dropFirst($0.count - 1).allSatisfy(\.isNumber) }
        if isStructural {
            throw FITSError(file: file, reason: .invalidInput(
                "keyword \(keyword) describes the file's structure and is set by the writer"))
        }
    }
}
