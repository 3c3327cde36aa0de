import CFITSIO
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An open CFITSIO file handle, with the name used in errors. Not thread-safe: one reader owns it
/// from open to close.
final class CFITSIOFile {
    let pointer: UnsafeMutablePointer<fitsfile>
    let name: String
    /// Memory we free after closing: the cells holding the address and size of an in-memory file
    /// (CFITSIO's memory driver keeps pointers to them until ffclos) and, for a gzip'd buffer,
    /// the inflated copy.
    private(set) var memory: MemoryCells?
    private var isClosed = false
    /// The length of the bytes CFITSIO reads: a buffer, or a plain file on disk (nil for a file
    /// CFITSIO decompressed itself). CFITSIO's memory driver reads past the end of a short buffer
    /// without an error, and a header may claim any size, so readers check sizes against it first.
    let length: Int?

    init(pointer: UnsafeMutablePointer<fitsfile>, name: String, memory: MemoryCells? = nil,
         length: Int? = nil) {
        self.pointer = pointer
        self.name = name
        self.memory = memory
        self.length = length
    }

    deinit { close() }

    /// Closes the CFITSIO handle (if still open) and frees the memory we own.
    func close() {
        closeHandle()
        memory?.release()
        memory = nil
    }

    /// Closes only the CFITSIO handle, keeping an in-memory file's bytes readable.
    @discardableResult
    func closeHandle() -> Int32 {
        guard !isClosed else { return 0 }
        isClosed = true
        var status: Int32 = 0
        ffclos(pointer, &status)
        return status
    }

    /// Opens a file on disk read-only, taking the path literally. A gzip'd file is inflated by
    /// `Gunzip` within `limits` (CFITSIO's own driver would grow its buffer without bound).
    static func open(path: String, limits: InputLimits = .standard) throws -> CFITSIOFile {
        let signature = try FileSignature.check(path: path)
        if signature == .gzip || signature == .bzip2 {
            let compressed: Data
            do {
                compressed = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
            } catch {
                throw FITSError(file: path, reason: .unreadable(error.localizedDescription))
            }
            // The inflated copy is ours, so the mapping may go once the handle is open.
            return try compressed.withUnsafeBytes { try open(bytes: $0, name: path, limits: limits) }
        }
        if signature == .fits, let mapped = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) {
            // Only the header blocks are touched: the walk jumps over each HDU's data.
            try mapped.withUnsafeBytes { try RawHeaderScan.check($0, name: path) }
        }
        var status: Int32 = 0
        var pointer: UnsafeMutablePointer<fitsfile>?
        ffdkopn(&pointer, path, READONLY, &status)
        if status > 0, signature != .fits, [CFITSIOStatus.endOfFile, CFITSIOStatus.readError, CFITSIOStatus.decompressionError].contains(status) {
            throw FITSError(file: path, reason: .truncated(
                "the compressed stream is cut short or damaged (CFITSIO: \(CFITSIOStatus.text(status)))"))
        }
        guard status == 0, let pointer else {
            throw CFITSIOFile.openError(status, name: path)
        }
        // stat, not FileManager.attributesOfItem: that reads /etc/passwd and /etc/group for the owner's
        // names on every open, and lstats (a symlinked input would look truncated).
        var info = stat()
        let size = signature == .fits && stat(path, &info) == 0 ? Int(info.st_size) : nil
        return CFITSIOFile(pointer: pointer, name: path, length: size)
    }

    /// Opens the bytes of a FITS file (gzip'd or not). CFITSIO only reads `bytes`, which must
    /// outlive the handle; a gzip'd buffer is first inflated into memory we own.
    static func open(bytes: UnsafeRawBufferPointer, name: String, limits: InputLimits = .standard) throws -> CFITSIOFile {
        let signature = try FileSignature.check(bytes: bytes, name: name)
        let memory: MemoryCells
        if signature == .gzip || signature == .bzip2 {
            let (inflated, size) = signature == .gzip
                ? try Gunzip.inflate(bytes, name: name, limit: limits.maxInflatedBytes)
                : try Bunzip2.inflate(bytes, name: name, limit: limits.maxInflatedBytes)
            // Whole records for CFITSIO's memory driver (below), the tail zeroed.
            let padded = (size / 2880 + 1) * 2880
            guard let buffer = realloc(inflated, padded) else {
                free(inflated)
                throw FITSError(file: name, reason: .unreadable("out of memory holding \(size) inflated bytes"))
            }
            memset(buffer + size, 0, padded - size)
            memory = MemoryCells(address: buffer, size: size, ownsBuffer: true)
        } else if bytes.count % 2880 == 0 {
            memory = MemoryCells(address: UnsafeMutableRawPointer(mutating: bytes.baseAddress),
                                 size: bytes.count, ownsBuffer: false)
        } else {
            // CFITSIO's memory driver reads whole 2880-byte records without checking the buffer's
            // end (found by scripts/fuzz/fits-libfuzzer): a file cut mid-record is copied into a
            // zero-padded buffer, its size still the bytes really there.
            let padded = (bytes.count / 2880 + 1) * 2880
            guard let buffer = calloc(padded, 1) else {
                throw FITSError(file: name, reason: .unreadable("out of memory copying \(bytes.count) bytes"))
            }
            if let source = bytes.baseAddress { memcpy(buffer, source, bytes.count) }
            memory = MemoryCells(address: buffer, size: bytes.count, ownsBuffer: true)
        }
        do {
            try RawHeaderScan.check(UnsafeRawBufferPointer(start: memory.address.pointee, count: memory.size.pointee),
                                           name: name)
        } catch {
            memory.release()
            throw error
        }
        var status: Int32 = 0
        var pointer: UnsafeMutablePointer<fitsfile>?
        ffomem(&pointer, "memory.fits", READONLY, memory.address, memory.size, 0, nil, &status)
        guard status == 0, let pointer else {
            memory.release()
            throw CFITSIOFile.openError(status, name: name)
        }
        return CFITSIOFile(pointer: pointer, name: name, memory: memory, length: memory.size.pointee)
    }

    private static func openError(_ status: Int32, name: String) -> FITSError {
        let text = CFITSIOStatus.text(status)
        switch status {
        case CFITSIOStatus.endOfFile, CFITSIOStatus.readError, CFITSIOStatus.noEnd:
            return FITSError(file: name, reason: .truncated("the file ends inside the primary header (CFITSIO: \(text))"))
        case CFITSIOStatus.noSimple, CFITSIOStatus.unknownRecord:
            return FITSError(file: name, reason: .notFITS("CFITSIO: \(text)"))
        default:
            return FITSError(file: name, reason: .cfitsio(action: "opening the file", status: status, message: text))
        }
    }

    // MARK: Calls

    /// Runs one CFITSIO call with a fresh status; a failure throws a FITSError naming the action.
    @discardableResult
    func call(_ action: String, _ body: (inout Int32) -> Int32) throws -> Int32 {
        var status: Int32 = 0
        _ = body(&status)
        if status > 0 {
            throw FITSError(file: name, reason: .cfitsio(action: action, status: status,
                                                         message: CFITSIOStatus.text(status)))
        }
        return status
    }
}
