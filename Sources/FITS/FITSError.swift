/// Why a FITS file could not be read or written. Its description is one line naming the file
/// and the reason, e.g. `raw/a.fits: truncated file: the data ends before the size its header declares`.
public struct FITSError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Reason: Equatable, Sendable {
        case fileNotFound
        case unreadable(String)
        case unwritable(String)
        case notFITS(String)
        case truncated(String)
        case hduIndexOutOfRange(index: Int, count: Int)
        case extensionNotFound(String)
        case noImage
        case notAnImage(hdu: Int, kind: String)
        case noImageData(hdu: Int)
        case zeroSizedImage(hdu: Int, axes: [Int])
        case notTwoDimensional(hdu: Int, axes: [Int])
        case invalidInput(String)
        /// A size in the header is beyond a limit (`InputLimits`) or overflows.
        case tooLarge(String)
        /// Any other CFITSIO failure: what we were doing, its status code and its message.
        case cfitsio(action: String, status: Int32, message: String)
    }

    /// The file path, or the name given to an in-memory buffer.
    public let file: String
    public let reason: Reason

    public init(file: String, reason: Reason) {
        self.file = file
        self.reason = reason
    }

    public var description: String { "\(file): \(reasonText)" }

    private var reasonText: String {
        switch reason {
        case .fileNotFound:
            return "no such file"
        case .unreadable(let why):
            return "cannot read the file (\(why))"
        case .unwritable(let why):
            return "cannot write the file (\(why))"
        case .notFITS(let why):
            return "not a FITS file (\(why))"
        case .truncated(let why):
            return "truncated file: \(why)"
        case .hduIndexOutOfRange(let index, let count):
            return "HDU index \(index) is out of range: the file has \(count) HDU\(count == 1 ? "" : "s")"
                + " (0 to \(count - 1), 0 = primary)"
        case .extensionNotFound(let name):
            return "no HDU with EXTNAME '\(name)'"
        case .noImage:
            return "no image: the primary HDU is empty (NAXIS = 0) and no extension holds an image"
        case .notAnImage(let hdu, let kind):
            return "HDU \(hdu) is \(kind), not an image"
        case .noImageData(let hdu):
            return "HDU \(hdu) holds no image data (NAXIS = 0)"
        case .zeroSizedImage(let hdu, let axes):
            let zero = axes.firstIndex(of: 0).map { "NAXIS\($0 + 1) = 0" } ?? "no pixels"
            return "HDU \(hdu) is a zero-sized image (\(zero); size \(Self.shape(axes)))"
        case .notTwoDimensional(let hdu, let axes):
            return "HDU \(hdu) is not a 2-D image: NAXIS = \(axes.count) (size \(Self.shape(axes)))"
        case .invalidInput(let why):
            return why
        case .tooLarge(let why):
            return "too large: \(why)"
        case .cfitsio(let action, let status, let message):
            return "\(action) failed: \(message) (CFITSIO status \(status))"
        }
    }

    private static func shape(_ axes: [Int]) -> String {
        axes.map(String.init).joined(separator: " x ")
    }
}
