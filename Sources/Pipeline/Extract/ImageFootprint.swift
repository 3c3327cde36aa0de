import FITS
import Foundation

/// How many bytes an input's pixels take as float32 (what reading and extracting it costs, to
/// within a small factor), known before the image is read: from the header of a plain FITS file
/// on a file system (its first blocks, NAXISn or a tile-compressed image's ZNAXISn), else from the
/// size of the file or object, doubled (an int16 image, the common survey case, doubles as float32;
/// compressed files grow more, float32 ones less).
enum ImageFootprint {
    static func pixelBytes(of input: InputFile) -> Int {
        let uri = input.uri.hasPrefix("file://") ? String(input.uri.dropFirst("file://".count)) : input.uri
        if !uri.contains("://"), !uri.hasSuffix(".gz"), let fromHeader = FITSImageSize.float32Bytes(atPath: uri) {
            return fromHeader
        }
        var size = Int(input.size)
        if size == 0, !uri.contains("://") {
            size = ((try? FileManager.default.attributesOfItem(atPath: uri)[.size]) as? Int) ?? 0
        }
        return size * 2
    }
}
