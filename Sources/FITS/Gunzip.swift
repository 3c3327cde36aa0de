import CFITSIO
import Foundation

/// Inflates a gzip'd FITS file held in memory with CFITSIO's own zlib code
/// (`uncompress2mem_from_mem`, exported by libcfitsio but declared only in its private
/// fitsio2.h, so it is looked up at run time). ffomem does not inflate by itself.
enum Gunzip {
    private typealias Realloc = @convention(c) (UnsafeMutableRawPointer?, Int) -> UnsafeMutableRawPointer?
    private typealias Uncompress = @convention(c) (
        UnsafeMutablePointer<CChar>?, Int,
        UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, UnsafeMutablePointer<Int>?,
        Realloc?, UnsafeMutablePointer<Int>?, UnsafeMutablePointer<Int32>?) -> Int32

    private static let uncompress: Uncompress? = {
        let name = "uncompress2mem_from_mem"
        // Our executables link libcfitsio, so the global scope finds it; the sonames cover a
        // libcfitsio loaded privately (e.g. by a plug-in).
        if let symbol = dlsym(defaultScope, name) {
            return unsafeBitCast(symbol, to: Uncompress.self)
        }
        for soname in ["libcfitsio.so.10", "libcfitsio.so", "libcfitsio.dylib"] {
            if let library = dlopen(soname, RTLD_NOW | RTLD_NOLOAD), let symbol = dlsym(library, name) {
                return unsafeBitCast(symbol, to: Uncompress.self)
            }
        }
        return nil
    }()

    #if os(Linux)
    // A constant handle value (never dereferenced or changed): safe to share.
    nonisolated(unsafe) private static let defaultScope = UnsafeMutableRawPointer(bitPattern: 0)  // RTLD_DEFAULT
    #else
    nonisolated(unsafe) private static let defaultScope = UnsafeMutableRawPointer(bitPattern: -2)  // RTLD_DEFAULT
    #endif

    /// Returns a malloc'd buffer holding the inflated file, and the file's length.
    ///
    /// The buffer is sized from the gzip trailer (ISIZE, the length mod 2^32) and never grown:
    /// given a realloc function, CFITSIO keeps growing its buffer for a stream that was cut short,
    /// so a truncated buffer must fail instead. (Files over 4 GB inflated are not supported here.)
    /// A trailer claiming more than `limit` bytes fails before anything is allocated.
    static func inflate(_ bytes: UnsafeRawBufferPointer, name: String,
                        limit: Int = InputLimits.standard.maxInflatedBytes) throws -> (UnsafeMutableRawPointer, Int) {
        guard let uncompress else {
            throw FITSError(file: name, reason: .unreadable(
                "it is gzip'd and this CFITSIO cannot inflate memory buffers; gunzip it first"))
        }
        let damaged = FITSError(file: name, reason: .truncated("the gzip stream is cut short or damaged"))
        guard bytes.count >= 18 else { throw damaged }
        let trailer = bytes.count - 4
        let expected = (0..<4).reduce(0) { $0 | Int(bytes[trailer + $1]) << (8 * $1) }
        // Deflate never expands more than ~1032:1, so a larger ISIZE is not a real trailer.
        guard expected <= bytes.count * 1100 else { throw damaged }
        guard expected <= limit else {
            throw FITSError(file: name, reason: .tooLarge(
                "it inflates to \(expected) bytes, more than sextant.input.maxInflatedBytes = \(limit)"))
        }
        var capacity = expected + 2880
        guard var buffer = malloc(capacity)?.assumingMemoryBound(to: CChar.self) as UnsafeMutablePointer<CChar>? else {
            throw FITSError(file: name, reason: .unreadable("out of memory inflating \(expected) bytes"))
        }
        var output: UnsafeMutablePointer<CChar>? = buffer
        var fileSize = 0
        var status: Int32 = 0
        let source = UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: CChar.self))
        _ = uncompress(source, bytes.count, &output, &capacity, nil, &fileSize, &status)
        if let output { buffer = output }
        guard status == 0, fileSize == expected else {
            free(buffer)
            throw damaged
        }
        return (UnsafeMutableRawPointer(buffer), fileSize)
    }

    /// Whether `source` inflates completely into at most `capacity` bytes of `buffer`, which is
    /// never grown (CFITSIO grows its own tile buffer without bound on a damaged gzip tile).
    /// Nil when this CFITSIO cannot inflate memory buffers.
    static func inflates(_ source: UnsafeMutablePointer<CChar>, count: Int,
                         into buffer: UnsafeMutablePointer<CChar>, capacity: Int) -> Bool? {
        guard let uncompress else { return nil }
        var output: UnsafeMutablePointer<CChar>? = buffer
        var size = capacity
        var produced = 0
        var status: Int32 = 0
        _ = uncompress(source, count, &output, &size, nil, &produced, &status)
        return status == 0 && output == buffer
    }
}
