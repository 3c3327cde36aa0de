import Foundation

/// Which HDU of a file to read as an image.
public enum HDUSelection: Sendable, Hashable {
    /// The primary HDU; when it is empty (NAXIS = 0), the first extension holding an image
    /// (which is also where a tile-compressed `.fz` file keeps its image).
    case automatic
    /// By position, counting as astropy does: 0 is the primary HDU.
    case index(Int)
    /// The HDU whose EXTNAME (or HDUNAME) matches, ignoring case.
    case extname(String)
}

/// A 2-D image read from a FITS file, as 32-bit floats.
///
/// Whatever the file's BITPIX, pixel values are `raw * BSCALE + BZERO` computed in double precision
/// and then rounded to Float (as CFITSIO does when reading TFLOAT, and as astropy's
/// `(raw.astype(float64) * bscale + bzero).astype(float32)`).
public struct FITSImage: Sendable {
    public var width: Int
    public var height: Int
    /// `width * height` values, row by row: pixel (x, y) (0-based) is `pixels[y * width + x]`,
    /// the FITS order (NAXIS1 varies fastest), the same as astropy's `data[y, x]`.
    /// Bad pixels (see `mask`) hold 0.
    public var pixels: [Float]
    /// True marks a bad pixel: an integer pixel equal to BLANK, or a NaN float pixel.
    /// Nil when the image has no bad pixel.
    public var mask: [Bool]?
    /// The header of the HDU read (for a tile-compressed image, the image's own header).
    public var header: FITSHeader
    /// The HDU read, 0 = primary.
    public var hdu: Int
    public var extname: String?
    /// The BITPIX of the stored image (for a compressed image, of the uncompressed one).
    public var bitpix: Int

    public init(width: Int, height: Int, pixels: [Float], mask: [Bool]? = nil,
                header: FITSHeader = FITSHeader(cards: []), hdu: Int = 0,
                extname: String? = nil, bitpix: Int = -32) {
        self.width = width
        self.height = height
        self.pixels = pixels
        self.mask = mask
        self.header = header
        self.hdu = hdu
        self.extname = extname
        self.bitpix = bitpix
    }

    public subscript(x: Int, y: Int) -> Float {
        pixels[y * width + x]
    }

    /// Reads an image from a FITS file on disk. Gzip'd (`.fits.gz`) and tile-compressed
    /// (`.fz`) files read too. The path is taken literally (no CFITSIO `[ext]` filename syntax).
    /// A header whose sizes exceed `limits` or the file fails before any pixel buffer is made.
    public init(contentsOfFile path: String, hdu: HDUSelection = .automatic, limits: InputLimits = .standard) throws {
        self = try CFITSIOLock.run {
            let file = try CFITSIOFile.open(path: path, limits: limits)
            defer { file.close() }
            return try ImageReader(file: file, limits: limits).read(hdu)
        }
    }

    /// Reads an image from the bytes of a FITS file (plain or gzip'd, or tile-compressed),
    /// without a temporary file. `name` names the buffer in errors.
    public init(data: Data, name: String = "<memory>", hdu: HDUSelection = .automatic,
                limits: InputLimits = .standard) throws {
        self = try data.withUnsafeBytes { bytes in
            try Self.read(bytes, name: name, hdu: hdu, limits: limits)
        }
    }

    public init(bytes: [UInt8], name: String = "<memory>", hdu: HDUSelection = .automatic,
                limits: InputLimits = .standard) throws {
        self = try bytes.withUnsafeBytes { buffer in
            try Self.read(buffer, name: name, hdu: hdu, limits: limits)
        }
    }

    private static func read(_ bytes: UnsafeRawBufferPointer, name: String,
                             hdu: HDUSelection, limits: InputLimits) throws -> FITSImage {
        try CFITSIOLock.run {
            let file = try CFITSIOFile.open(bytes: bytes, name: name, limits: limits)
            defer { file.close() }
            return try ImageReader(file: file, limits: limits).read(hdu)
        }
    }
}
