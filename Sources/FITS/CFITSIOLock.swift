import CFITSIO
import Foundation

/// CFITSIO is safe to call from many threads at once only when it was built reentrant
/// (Debian's libcfitsio10 is: `fits_is_reentrant()` returns 1). When it was not, every
/// open-to-close sequence made through `run` is serialized by one process-wide lock.
enum CFITSIOLock {
    static let isReentrant: Bool = fits_is_reentrant() != 0

    private static let lock = NSLock()

    static func run<T>(_ body: () throws -> T) rethrows -> T {
        if isReentrant { return try body() }
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}

/// Facts about the linked CFITSIO.
public enum FITSLibrary {
    /// True when the linked CFITSIO is reentrant, so files are read in parallel without a lock;
    /// false means every read and write is serialized.
    public static var isReentrant: Bool { CFITSIOLock.isReentrant }

    /// The linked CFITSIO version, e.g. "4.2" (ffvers reports 4.2.0 as 4.02).
    public static var version: String {
        var number: Float = 0
        _ = ffvers(&number)
        let major = Int(number)
        let minor = Int(((number - Float(major)) * 100).rounded())
        return "\(major).\(minor)"
    }
}
