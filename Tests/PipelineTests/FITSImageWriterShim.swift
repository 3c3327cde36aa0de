import FITS
import Foundation

/// Writes test images through the FITS module.
enum FITSImageWriterShim {
    static func writeFloat(width: Int, height: Int, value: Float, to path: String) throws {
        try FITSImageWriter(width: width, height: height,
                            pixels: .float32([Float](repeating: value, count: width * height))).write(to: path)
    }
}
