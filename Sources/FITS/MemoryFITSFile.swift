import CFITSIO
import Foundation

extension CFITSIOFile {
    /// A new, empty FITS file in memory that CFITSIO grows as it writes.
    static func createInMemory(name: String) throws -> CFITSIOFile {
        let memory = MemoryCells.growable()
        var status: Int32 = 0
        var pointer: UnsafeMutablePointer<fitsfile>?
        ffimem(&pointer, memory.address, memory.size, blockSize * 16, realloc, &status)
        guard status == 0, let pointer else {
            memory.release()
            throw FITSError(file: name, reason: .cfitsio(action: "creating a file in memory", status: status,
                                                         message: CFITSIOStatus.text(status)))
        }
        return CFITSIOFile(pointer: pointer, name: name, memory: memory)
    }

    /// Closes a file made by `createInMemory` and returns its bytes: every HDU, padded to whole
    /// 2880-byte blocks, as CFITSIO would have written it to disk.
    func closeReturningBytes() throws -> Data {
        try call("flushing the file") { ffflus(pointer, &$0) }
        var headerStart: Int64 = 0, dataStart: Int64 = 0, dataEnd: Int64 = 0
        try call("measuring the file") { ffghadll(pointer, &headerStart, &dataStart, &dataEnd, &$0) }
        let length = (Int(dataEnd) + Self.blockSize - 1) / Self.blockSize * Self.blockSize
        defer { close() }
        let status = closeHandle()
        guard status <= 0, let memory, let start = memory.address.pointee, memory.size.pointee >= length else {
            throw FITSError(file: name, reason: .cfitsio(action: "closing the file", status: status,
                                                         message: CFITSIOStatus.text(status)))
        }
        return Data(bytes: start, count: length)
    }

    static let blockSize = 2880
}
