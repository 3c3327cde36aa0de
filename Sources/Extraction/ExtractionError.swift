import CSEP

/// What can go wrong in this module. Every case names the image it concerns.
public enum ExtractionError: Error, Equatable, CustomStringConvertible {
    /// The image cannot be handed to SEP (no pixels, sizes disagree).
    case invalidImage(String, String)
    /// Every pixel is masked, NaN or blank: there is no background to measure.
    case noUsablePixels(String)
    /// SEP returned a nonzero status.
    case sep(SEPError)
    /// A parameter is out of range (the message says which and why).
    case invalidParameter(String)

    public var description: String {
        switch self {
        case .invalidImage(let label, let reason): return "\(label): image \(reason)"
        case .noUsablePixels(let label):
            return "\(label): every pixel is masked, NaN or blank; nothing to measure"
        case .sep(let error): return error.description
        case .invalidParameter(let message): return "invalid extraction parameter: \(message)"
        }
    }
}

/// A failed SEP call: its status code, `sep_get_errmsg`'s message and `sep_get_errdetail`'s detail.
public struct SEPError: Error, Equatable, CustomStringConvertible {
    public let status: Int32
    public let message: String
    public let detail: String
    /// The SEP function and the image it ran on.
    public let context: String

    /// SEP's status codes (sepcore.h) that callers may want to react to.
    public static let memoryAllocationError: Int32 = 1
    public static let pixstackFull: Int32 = 2
    public static let deblendOverflow: Int32 = 7

    /// Reads the message for `status` and this thread's error detail. SEP keeps the
    /// detail in thread-local storage, so call this on the thread that made the failed call.
    init(status: Int32, context: String) {
        var messageBuffer = [CChar](repeating: 0, count: 61)
        sep_get_errmsg(status, &messageBuffer)
        var detailBuffer = [CChar](repeating: 0, count: 512)
        sep_get_errdetail(&detailBuffer)
        self.status = status
        self.message = String(cString: messageBuffer)
        self.detail = String(cString: detailBuffer)
        self.context = context
    }

    public var description: String {
        var text = "\(context): SEP error \(status): \(message)"
        if !detail.isEmpty { text += " (\(detail))" }
        return text
    }
}
