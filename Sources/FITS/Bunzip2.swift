import CBZip2
import Foundation

/// Decompresses a bzip2'd FITS file held in memory (SDSS ships its frames as .fits.bz2) with
/// the system libbz2.
///
/// bzip2 records no uncompressed size, so the output is bounded as gzip's is: at most 1100
/// times the compressed size (more than any real image compresses), and never more than
/// `limit` bytes. A stream that would exceed the bound, is cut short or is damaged is an error
/// naming the file; nothing grows without bound.
enum Bunzip2 {
    static let maximumRatio = 1100

    /// Returns a malloc'd buffer holding the decompressed file, and the file's length.
    static func inflate(_ bytes: UnsafeRawBufferPointer, name: String,
                        limit: Int = Int(Int32.max)) throws -> (UnsafeMutableRawPointer, Int) {
        let damaged = FITSError(file: name, reason: .truncated("the bzip2 stream is cut short or damaged"))
        guard bytes.count >= 14, let base = bytes.baseAddress else { throw damaged }
        let bound = min(limit, bytes.count.multipliedReportingOverflow(by: maximumRatio).overflow
                        ? limit : bytes.count * maximumRatio)
        var stream = bz_stream()
        guard BZ2_bzDecompressInit(&stream, 0, 0) == BZ_OK else {
            throw FITSError(file: name, reason: .unreadable("libbz2 could not start decompressing"))
        }
        defer { BZ2_bzDecompressEnd(&stream) }
        // Start at four times the input (typical for images) and double up to the bound.
        var capacity = min(bound, max(4 * bytes.count, 2880))
        guard var buffer = malloc(capacity) else {
            throw FITSError(file: name, reason: .unreadable("out of memory decompressing it"))
        }
        stream.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: CChar.self))
        stream.avail_in = UInt32(clamping: bytes.count)
        var produced = 0
        while true {
            stream.next_out = (buffer + produced).assumingMemoryBound(to: CChar.self)
            let room = UInt32(clamping: capacity - produced)
            stream.avail_out = room
            let status = BZ2_bzDecompress(&stream)
            produced += Int(room - stream.avail_out)
            if status == BZ_STREAM_END { break }
            guard status == BZ_OK else {
                free(buffer)
                throw damaged
            }
            if stream.avail_out > 0 {
                // libbz2 wanted more input than there is: the stream is cut short.
                if stream.avail_in == 0 {
                    free(buffer)
                    throw damaged
                }
                continue
            }
            guard capacity < bound else {
                free(buffer)
                throw FITSError(file: name, reason: .unreadable(
                    "it decompresses to more than \(bound) bytes (over \(maximumRatio) times its size); not a FITS image we read"))
            }
            capacity = min(bound, capacity * 2)
            guard let grown = realloc(buffer, capacity) else {
                free(buffer)
                throw FITSError(file: name, reason: .unreadable("out of memory decompressing it"))
            }
            buffer = grown
        }
        return (buffer, produced)
    }
}
