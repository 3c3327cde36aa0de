import CFITSIO
import Foundation

extension FITSImage {
    /// The indices (0 = primary) of every HDU holding a non-empty image, tile-compressed ones
    /// included, reading headers only. A mosaic camera's file lists each CCD.
    public static func imageHDUs(contentsOfFile path: String, limits: InputLimits = .standard) throws -> [Int] {
        try CFITSIOLock.run {
            let file = try CFITSIOFile.open(path: path, limits: limits)
            defer { file.close() }
            return try imageHDUs(in: file)
        }
    }

    /// The same for the bytes of a FITS file (plain, gzip'd or tile-compressed).
    public static func imageHDUs(data: Data, name: String = "<memory>", limits: InputLimits = .standard) throws -> [Int] {
        try data.withUnsafeBytes { bytes in
            try CFITSIOLock.run {
                let file = try CFITSIOFile.open(bytes: bytes, name: name, limits: limits)
                defer { file.close() }
                return try imageHDUs(in: file)
            }
        }
    }

    private static func imageHDUs(in file: CFITSIOFile) throws -> [Int] {
        var indices: [Int] = []
        var index = 0
        while true {
            var status: Int32 = 0
            ffmahd(file.pointer, Int32(clamping: index + 1), nil, &status)
            if status == CFITSIOStatus.endOfFile { break }
            if status > 0 {
                // A damaged later HDU: report what came before; reading it says what is wrong.
                if index == 0 { throw FITSError(file: file.name, reason: .cfitsio(action: "moving to HDU 0", status: status, message: CFITSIOStatus.text(status))) }
                indices.append(index)
                break
            }
            var type: Int32 = 0, naxis: Int32 = 0
            try file.call("reading the HDU type") { ffghdt(file.pointer, &type, &$0) }
            if type == IMAGE_HDU {
                try file.call("reading NAXIS") { ffgidm(file.pointer, &naxis, &$0) }
                if naxis > 0 { indices.append(index) }
            }
            index += 1
        }
        return indices
    }
}
