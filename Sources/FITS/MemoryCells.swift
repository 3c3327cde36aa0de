import Foundation

/// The two cells CFITSIO's memory driver reads and updates for an in-memory file: the buffer's
/// address and its allocated size. The driver keeps pointers to them from open to close, so they
/// live at fixed addresses until `release()`.
struct MemoryCells {
    let address: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    let size: UnsafeMutablePointer<Int>
    /// Whether the buffer was malloc'd for us (freed on release) or borrowed from the caller.
    let ownsBuffer: Bool

    init(address buffer: UnsafeMutableRawPointer?, size bytes: Int, ownsBuffer: Bool) {
        address = .allocate(capacity: 1)
        address.initialize(to: buffer)
        size = .allocate(capacity: 1)
        size.initialize(to: bytes)
        self.ownsBuffer = ownsBuffer
    }

    /// No buffer yet: CFITSIO allocates and grows it with realloc as it writes. (Starting from a
    /// malloc'd buffer is unsafe: CFITSIO takes whatever FITS file the recycled memory still
    /// holds as the file's existing content and appends after it.)
    static func growable() -> MemoryCells {
        MemoryCells(address: nil, size: 0, ownsBuffer: true)
    }

    func release() {
        if ownsBuffer { free(address.pointee) }
        address.deallocate()
        size.deallocate()
    }
}
