import CSEP
#if canImport(Engine)
import Engine  // ReadWriteLock; scripts/bench compile this module with its file, as one module
#endif
import Foundation

/// The one gate through which this module calls SEP. Why it exists:
///
/// SEP >= 1.2 keeps its work buffers (Lutz's stacks, the deblending trees, the error
/// detail) in thread-local storage and uses `rand_r`, so extractions of independent
/// images may run on many threads at once. Two settings, however, are plain process-wide
/// globals: the extraction pixel stack (`sep_set_extract_pixstack`) and the deblending
/// sub-object limit (`sep_set_sub_object_limit`). `sep_extract` reads them while it runs.
///
/// So every SEP call holds the *read* side of a readers-writer lock, and changing a
/// setting (including the temporary bump for a PIXSTACK_FULL retry) holds the *write*
/// side: no extraction is running while a global changes, and an extraction never sees
/// a setting change half-way.
///
/// `mode = .serialized` makes every SEP call take the write side instead, i.e. one SEP
/// call at a time in the whole process. That is for a libsep that is not reentrant
/// (older than 1.2, or built without thread-local storage), as Kira had to do.
/// @unchecked: `modeLock` guards `currentMode`, `currentRetryFactor` and `retries`; `gate` orders the SEP calls.
public final class SEPLibrary: @unchecked Sendable {
    public enum ConcurrencyMode: String, Codable, Sendable {
        /// SEP calls run concurrently; only settings changes are exclusive.
        case parallel
        /// Every SEP call runs alone, under one process-wide lock.
        case serialized
    }

    /// There is one SEP per process, so there is one gate.
    public static let shared = SEPLibrary()

    private let gate = ReadWriteLock()
    private let modeLock = NSLock()
    private var currentMode = ConcurrencyMode.parallel
    private var currentRetryFactor = 4
    private var retries = 0

    private init() {}

    /// The linked libsep's version string (Debian's libsep0 1.2.1 reports "1.2.0").
    public static var version: String { String(cString: sep_version_string) }

    public var mode: ConcurrencyMode {
        get { modeLock.withLock { currentMode } }
        set { modeLock.withLock { currentMode = newValue } }
    }

    /// How much larger the pixel stack (or sub-object limit) is for the single retry
    /// after PIXSTACK_FULL (or DEBLEND_OVERFLOW). Default 4.
    public var retryFactor: Int {
        get { modeLock.withLock { currentRetryFactor } }
        set { modeLock.withLock { currentRetryFactor = max(2, newValue) } }
    }

    /// How many extractions needed the retry with raised limits since the process started.
    public var retryCount: Int { modeLock.withLock { retries } }

    /// SEP's extraction pixel stack (active pixels above threshold; default 300000).
    /// Setting it waits until no SEP call is running.
    public var pixelStack: Int {
        get { gate.withReadLock { Int(sep_get_extract_pixstack()) } }
        set { gate.withWriteLock { sep_set_extract_pixstack(max(1, newValue)) } }
    }

    /// SEP's limit on deblended sub-objects per object (default 1024).
    /// Setting it waits until no SEP call is running.
    public var subObjectLimit: Int {
        get { gate.withReadLock { Int(sep_get_sub_object_limit()) } }
        set { gate.withWriteLock { sep_set_sub_object_limit(Int32(clamping: max(1, newValue))) } }
    }

    /// Runs SEP calls that only read the process-wide settings:
    /// shared with other callers in parallel mode, alone in serialized mode.
    func call<T>(_ body: () throws -> T) rethrows -> T {
        switch mode {
        case .parallel: return try gate.withReadLock(body)
        case .serialized: return try gate.withWriteLock(body)
        }
    }

    /// Runs `body` alone, with the settings multiplied by `retryFactor` where asked,
    /// and restores them before any other SEP call can start.
    func withRaisedLimits<T>(pixelStack raisePixelStack: Bool, subObjectLimit raiseSubObjects: Bool,
                             _ body: () throws -> T) rethrows -> T {
        let factor = modeLock.withLock { () -> Int in
            retries += 1
            return currentRetryFactor
        }
        return try gate.withWriteLock {
            let savedStack = sep_get_extract_pixstack()
            let savedLimit = sep_get_sub_object_limit()
            if raisePixelStack {
                let raised = savedStack.multipliedReportingOverflow(by: size_t(factor))
                sep_set_extract_pixstack(raised.overflow ? savedStack : raised.partialValue)
            }
            if raiseSubObjects {
                let raised = savedLimit.multipliedReportingOverflow(by: Int32(clamping: factor))
                sep_set_sub_object_limit(raised.overflow ? Int32.max : raised.partialValue)
            }
            defer {
                sep_set_extract_pixstack(savedStack)
                sep_set_sub_object_limit(savedLimit)
            }
            return try body()
        }
    }

    /// Runs `body` alone with the pixel stack at least `pixels` (restored before any other SEP call).
    func withPixelStack<T>(_ pixels: Int, _ body: () throws -> T) rethrows -> T {
        modeLock.withLock { retries += 1 }
        return try gate.withWriteLock {
            let saved = sep_get_extract_pixstack()
            sep_set_extract_pixstack(max(saved, size_t(max(1, pixels))))
            defer { sep_set_extract_pixstack(saved) }
            return try body()
        }
    }
}
