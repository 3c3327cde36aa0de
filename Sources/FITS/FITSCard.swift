/// One header keyword: `NAME = value / comment`. COMMENT, HISTORY and blank cards have no value;
/// their text is in `comment`. Used both for headers read and for keywords to write.
public struct FITSCard: Sendable, Hashable {
    public var keyword: String
    public var value: FITSValue?
    public var comment: String

    public init(_ keyword: String, _ value: FITSValue?, comment: String = "") {
        self.keyword = keyword
        self.value = value
        self.comment = comment
    }

    public static func string(_ keyword: String, _ value: String, comment: String = "") -> FITSCard {
        FITSCard(keyword, .string(value), comment: comment)
    }

    public static func int(_ keyword: String, _ value: Int, comment: String = "") -> FITSCard {
        FITSCard(keyword, .int(value), comment: comment)
    }

    public static func double(_ keyword: String, _ value: Double, comment: String = "") -> FITSCard {
        FITSCard(keyword, .double(value), comment: comment)
    }

    public static func bool(_ keyword: String, _ value: Bool, comment: String = "") -> FITSCard {
        FITSCard(keyword, .bool(value), comment: comment)
    }

    /// A `COMMENT` card.
    public static func commentary(_ text: String) -> FITSCard {
        FITSCard("COMMENT", nil, comment: text)
    }

    /// A `HISTORY` card.
    public static func history(_ text: String) -> FITSCard {
        FITSCard("HISTORY", nil, comment: text)
    }
}
