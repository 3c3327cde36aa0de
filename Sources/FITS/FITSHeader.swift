/// Every keyword of one HDU's header, in file order, with typed look-ups.
/// Names are matched case-insensitively; when a keyword repeats, the first one wins.
/// For a tile-compressed image, this is the header of the image (BITPIX, NAXISn, ...),
/// not of the binary table that stores it.
public struct FITSHeader: Sendable, Hashable {
    public var cards: [FITSCard]
    /// The header's 80-character records as read (END excluded); empty for a header built
    /// from cards. WCS parsing (wcslib) reads these.
    public var records: [String]

    public init(cards: [FITSCard], records: [String] = []) {
        self.cards = cards
        self.records = records
    }

    public subscript(keyword: String) -> FITSValue? {
        card(keyword)?.value
    }

    public func card(_ keyword: String) -> FITSCard? {
        let name = Array(keyword.uppercased().utf8)
        return cards.first { Self.matches($0.keyword, uppercased: name) }
    }

    /// Keywords are ASCII: compared byte by byte, without uppercasing every card's keyword on
    /// every look-up (a frame's row looks up dozens).
    private static func matches(_ keyword: String, uppercased name: [UInt8]) -> Bool {
        let bytes = keyword.utf8
        guard bytes.count == name.count else { return false }
        return zip(bytes, name).allSatisfy { byte, upper in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") ? byte - 32 : byte) == upper
        }
    }

    public func contains(_ keyword: String) -> Bool {
        card(keyword) != nil
    }

    /// A string value; other values in their FITS spelling (T, 42, 2.5).
    public func string(_ keyword: String) -> String? {
        switch self[keyword] {
        case .string(let s): return s
        case .some(let other): return other.description
        case nil: return nil
        }
    }

    /// Integers and reals both read as Double.
    public func double(_ keyword: String) -> Double? {
        switch self[keyword] {
        case .double(let d): return d
        case .int(let i): return Double(i)
        default: return nil
        }
    }

    /// Reals read as Int only when they are whole numbers (EXPTIME = 30.0 -> 30).
    public func int(_ keyword: String) -> Int? {
        switch self[keyword] {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 9.2e18: return Int(d)
        default: return nil
        }
    }

    public func bool(_ keyword: String) -> Bool? {
        if case .bool(let b) = self[keyword] { return b }
        return nil
    }

    /// The text of every COMMENT card, or of every HISTORY card.
    public func commentary(_ keyword: String = "COMMENT") -> [String] {
        let name = keyword.uppercased()
        return cards.filter { $0.keyword.uppercased() == name && $0.value == nil }.map(\.comment)
    }
}
