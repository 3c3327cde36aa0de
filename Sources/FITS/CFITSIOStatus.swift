import CFITSIO

/// CFITSIO status codes we turn into specific `FITSError` reasons.
enum CFITSIOStatus {
    static let fileNotOpened: Int32 = 104
    static let endOfFile: Int32 = 107
    static let readError: Int32 = 108
    static let noEnd: Int32 = 210
    static let noSimple: Int32 = 221
    static let unknownRecord: Int32 = 252
    static let noMatchingHDU: Int32 = 301  // ffmnhd reports a missing EXTNAME as BAD_HDU_NUM
    static let keywordNotFound: Int32 = 202
    static let decompressionError: Int32 = 414

    /// CFITSIO's short text for a status code. It reads a static table, so it is thread-safe
    /// (unlike the error-message stack, which is shared by all threads).
    static func text(_ status: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 32)
        ffgerr(status, &buffer)
        return String(cString: buffer)
    }
}
