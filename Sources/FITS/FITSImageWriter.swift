import CFITSIO
import Foundation

/// Pixels to write into a FITS image.
public enum FITSPixels: Sendable {
    /// BITPIX -32. NaN pixels are written as NaN (and read back masked).
    case float32([Float])
    /// BITPIX 16, stored values as given; readers compute `stored * bscale + bzero`.
    /// Stored values equal to `blank` are undefined pixels (the BLANK keyword).
    case int16([Int16], bscale: Double = 1, bzero: Double = 0, blank: Int16? = nil)
    /// BITPIX 32, values as given (a segmentation map).
    case int32([Int32])

    var count: Int {
        switch self {
        case .float32(let v): return v.count
        case .int16(let v, _, _, _): return v.count
        case .int32(let v): return v.count
        }
    }

    var bitpix: Int32 {
        switch self {
        case .float32: return FLOAT_IMG
        case .int16: return SHORT_IMG
        case .int32: return LONG_IMG
        }
    }
}

/// Writes a FITS file whose primary HDU is one 2-D image. The output depends only on the input:
/// no DATE or other clock-derived keyword.
public struct FITSImageWriter: Sendable {
    public var width: Int
    public var height: Int
    /// Row by row, pixel (x, y) at `y * width + x`, as `FITSImage.pixels`.
    public var pixels: FITSPixels
    /// Extra header cards (GAIN, EXPTIME, OBJECT, ...).
    public var keywords: [FITSCard]

    public init(width: Int, height: Int, pixels: FITSPixels, keywords: [FITSCard] = []) {
        self.width = width
        self.height = height
        self.pixels = pixels
        self.keywords = keywords
    }

    /// The bytes of the FITS file. `name` names the image in errors.
    public func data(name: String = "<image>") throws -> Data {
        guard width > 0, height > 0, pixels.count == width * height else {
            throw FITSError(file: name, reason: .invalidInput(
                "a \(width) x \(height) image needs \(max(width * height, 0)) pixels, got \(pixels.count)"))
        }
        return try CFITSIOLock.run {
            let file = try CFITSIOFile.createInMemory(name: name)
            defer { file.close() }
            var axes = [Int64(width), Int64(height)]
            try file.call("creating the image") { ffcrimll(file.pointer, pixels.bitpix, 2, &axes, &$0) }
            try writeScaling(in: file)
            try file.write(keywords, reserved: ["BSCALE", "BZERO", "BLANK"])
            try writePixels(in: file)
            return try file.closeReturningBytes()
        }
    }

    /// Writes the file to `path` atomically (a temporary name, then a rename).
    public func write(to path: String) throws {
        try FITSOutput.write(data(name: path), to: path)
    }

    private func writeScaling(in file: CFITSIOFile) throws {
        guard case .int16(_, let bscale, let bzero, let blank) = pixels else { return }
        var scaling: [FITSCard] = []
        if bscale != 1 || bzero != 0 {
            scaling += [.double("BSCALE", bscale), .double("BZERO", bzero)]
        }
        if let blank { scaling.append(.int("BLANK", Int(blank), comment: "value of undefined pixels")) }
        try file.write(scaling, reserved: [])
        // The values given are the stored ones: write them unscaled.
        try file.call("setting the scaling") { ffpscl(file.pointer, 1, 0, &$0) }
    }

    private func writePixels(in file: CFITSIOFile) throws {
        let count = Int64(width * height)
        func put<T: BitwiseCopyable>(_ values: [T], _ type: Int32) throws {
            var values = values
            _ = try values.withUnsafeMutableBytes { buffer in
                try file.call("writing the pixels") { ffppr(file.pointer, type, 1, count, buffer.baseAddress, &$0) }
            }
        }
        switch pixels {
        case .float32(let v): try put(v, TFLOAT)
        case .int16(let v, _, _, _): try put(v, TSHORT)
        case .int32(let v): try put(v, TINT)
        }
    }
}
