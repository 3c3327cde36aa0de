import CFITSIO
import Foundation

/// Chooses the HDU asked for and reads it as a Float32 image with its bad-pixel mask.
struct ImageReader {
    let file: CFITSIOFile
    var limits: InputLimits = .standard

    private var name: String { file.name }

    func read(_ selection: HDUSelection) throws -> FITSImage {
        let hdu = try move(to: selection)
        let axes = try checkedImageAxes(hdu: hdu)
        // Every size is checked before the first buffer is made (HeaderLimits.swift).
        let count = try checkedPixelCount(axes, hdu: hdu)
        try checkDataIsPresent(hdu: hdu)
        try checkCompressedTiles(hdu: hdu)
        let header = try readHeader()
        let (pixels, mask) = try readPixels(count: count, hdu: hdu, header: header)
        return FITSImage(width: axes[0], height: axes[1], pixels: pixels, mask: mask,
                         header: header, hdu: hdu, extname: header.string("EXTNAME"),
                         bitpix: try bitpix())
    }

    // MARK: Choosing the HDU

    /// Moves to the HDU asked for and returns its 0-based index.
    private func move(to selection: HDUSelection) throws -> Int {
        switch selection {
        case .index(let index):
            try move(toIndex: index)
            return index
        case .extname(let extname):
            var status: Int32 = 0
            var hduName = Array(extname.utf8CString)
            ffmnhd(file.pointer, ANY_HDU, &hduName, 0, &status)
            if status == CFITSIOStatus.noMatchingHDU {
                throw FITSError(file: name, reason: .extensionNotFound(extname))
            }
            try check(status, reading: "looking for EXTNAME '\(extname)'", hdu: nil)
            return currentIndex
        case .automatic:
            if try dimensionCount() > 0 { return 0 }
            return try firstImageExtension()
        }
    }

    private func move(toIndex index: Int) throws {
        guard index >= 0, index < Int(Int32.max) else {
            throw FITSError(file: name, reason: .hduIndexOutOfRange(index: index, count: hduCount()))
        }
        var status: Int32 = 0
        ffmahd(file.pointer, Int32(index + 1), nil, &status)
        guard status > 0 else { return }
        let count = hduCount()
        if index >= count {
            throw FITSError(file: name, reason: .hduIndexOutOfRange(index: index, count: count))
        }
        try check(status, reading: "moving to HDU \(index)", hdu: index)
    }

    /// The first extension that holds an image (tile-compressed ones included).
    private func firstImageExtension() throws -> Int {
        var index = 1
        while true {
            var status: Int32 = 0
            ffmahd(file.pointer, Int32(clamping: index + 1), nil, &status)
            if status == CFITSIOStatus.endOfFile { break }
            try check(status, reading: "moving to HDU \(index)", hdu: index)
            if try hduType() == IMAGE_HDU, try dimensionCount() > 0 { return index }
            index += 1
        }
        throw FITSError(file: name, reason: .noImage)
    }

    private var currentIndex: Int {
        var number: Int32 = 0
        ffghdn(file.pointer, &number)
        return Int(number) - 1
    }

    /// How many HDUs the file holds (ffthdu reads every header to count them).
    private func hduCount() -> Int {
        var status: Int32 = 0
        var count: Int32 = 0
        ffthdu(file.pointer, &count, &status)
        return Int(count)
    }

    // MARK: The image's shape

    func hduType() throws -> Int32 {
        var type: Int32 = 0
        try file.call("reading the HDU type") { ffghdt(file.pointer, &type, &$0) }
        return type
    }

    private func dimensionCount() throws -> Int {
        var naxis: Int32 = 0
        try file.call("reading NAXIS") { ffgidm(file.pointer, &naxis, &$0) }
        return Int(naxis)
    }

    private func bitpix() throws -> Int {
        var bitpix: Int32 = 0
        try file.call("reading BITPIX") { ffgidt(file.pointer, &bitpix, &$0) }
        return Int(bitpix)
    }

    /// NAXIS1...NAXISn of the current HDU, checked to be a non-empty 2-D image
    /// (trailing axes of length 1, as in a 1-plane cube, are allowed).
    private func checkedImageAxes(hdu: Int) throws -> [Int] {
        switch try hduType() {
        case IMAGE_HDU: break
        case ASCII_TBL: throw FITSError(file: name, reason: .notAnImage(hdu: hdu, kind: "an ASCII table"))
        default: throw FITSError(file: name, reason: .notAnImage(hdu: hdu, kind: "a binary table"))
        }
        let naxis = try dimensionCount()
        if naxis == 0 { throw FITSError(file: name, reason: .noImageData(hdu: hdu)) }
        var sizes = [Int64](repeating: 0, count: naxis)
        try file.call("reading NAXISn") { ffgiszll(file.pointer, Int32(naxis), &sizes, &$0) }
        let axes = sizes.map { Int($0) }
        if axes.contains(0) { throw FITSError(file: name, reason: .zeroSizedImage(hdu: hdu, axes: axes)) }
        if naxis < 2 || axes.dropFirst(2).contains(where: { $0 != 1 }) {
            throw FITSError(file: name, reason: .notTwoDimensional(hdu: hdu, axes: axes))
        }
        return axes
    }

    // MARK: Header and pixels

    private func readHeader() throws -> FITSHeader {
        var text: UnsafeMutablePointer<CChar>?
        var count: Int32 = 0
        // ffcnvthdr2str gives a compressed image's header as the uncompressed image's. It may
        // fail after allocating the text (found by the libFuzzer harness as a leak): free it anyway.
        var status: Int32 = 0
        ffcnvthdr2str(file.pointer, 0, nil, 0, &text, &count, &status)
        defer { if let text { var ignored: Int32 = 0; fffree(text, &ignored) } }
        try check(status, reading: "reading the header", hdu: nil)
        guard let text else { return FITSHeader(cards: []) }
        let all = String(cString: text)
        let records = stride(from: 0, to: all.utf8.count, by: 80).map { start -> String in
            let from = all.utf8.index(all.utf8.startIndex, offsetBy: start)
            let to = all.utf8.index(from, offsetBy: 80, limitedBy: all.utf8.endIndex) ?? all.utf8.endIndex
            return String(all.utf8[from..<to]) ?? ""
        }
        return FITSHeader(records: records)
    }

    /// Reads every pixel as TFLOAT. ffgpf flags BLANK integer pixels and NaN float pixels;
    /// we zero their values and return the flags as the mask (nil when none is set).
    private func readPixels(count: Int, hdu: Int, header: FITSHeader) throws -> ([Float], [Bool]?) {
        if let kind = try unflaggedKind(header) { return try readUnflagged(count: count, hdu: hdu, kind) }
        var flags = [CChar](repeating: 0, count: count)
        var anyBad: Int32 = 0
        var status: Int32 = 0
        var pixels = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            ffgpf(file.pointer, TFLOAT, 1, Int64(count), buffer.baseAddress, &flags, &anyBad, &status)
            initialized = count
        }
        try check(status, reading: "reading the pixels", hdu: hdu)
        guard anyBad != 0 else { return (pixels, nil) }
        let mask = flags.map { $0 != 0 }
        for i in 0..<count where mask[i] { pixels[i] = 0 }
        return (pixels, mask)
    }

    /// Pixels that cannot be null, or whose nulls are found faster here than by ffgpf's flag array
    /// (a byte per pixel, zeroed, and a NaN test per pixel inside CFITSIO: 2-4 % of an
    /// SDSS-sized frame's positions + FLUX_APER extraction). Only plain images: an integer image
    /// without BLANK (no pixel is null), or a float32 image without BSCALE/BZERO.
    private enum UnflaggedKind {
        case integers
        case floats
    }

    private func unflaggedKind(_ header: FITSHeader) throws -> UnflaggedKind? {
        var status: Int32 = 0
        guard fits_is_compressed_image(file.pointer, &status) == 0, status == 0 else { return nil }
        switch try bitpix() {
        case 8, 16, 32, 64: return header.contains("BLANK") ? nil : .integers
        case -32: return header.contains("BSCALE") || header.contains("BZERO") ? nil : .floats
        default: return nil
        }
    }

    /// ffgpv with no null value (CFITSIO checks nothing), then, for floats, CFITSIO's own rule
    /// when it does check (fnan in fffr4r4): an all-ones exponent (NaN, ±Inf) is a bad pixel,
    /// an all-zeros one (±0, subnormal) reads as 0. The values and mask are ffgpf's, bit for bit.
    private func readUnflagged(count: Int, hdu: Int, _ kind: UnflaggedKind) throws -> ([Float], [Bool]?) {
        var status: Int32 = 0
        var noNull: Float = 0
        var anyNull: Int32 = 0
        var pixels = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            ffgpv(file.pointer, TFLOAT, 1, Int64(count), &noNull, buffer.baseAddress, &anyNull, &status)
            initialized = count
        }
        try check(status, reading: "reading the pixels", hdu: hdu)
        guard kind == .floats else { return (pixels, nil) }
        var mask: [Bool]?
        pixels.withUnsafeMutableBufferPointer { pixels in
            // A branch-free (vectorized) test per block; the rare block holding a special value is fixed pixel by pixel.
            let block = 4096
            for start in stride(from: 0, to: pixels.count, by: block) {
                let range = start..<min(start + block, pixels.count)
                guard Self.holdsSpecialValue(UnsafeBufferPointer(rebasing: pixels[range])) else { continue }
                for index in range {
                    let exponent = pixels[index].bitPattern & 0x7F80_0000
                    if exponent == 0x7F80_0000 {
                        if mask == nil { mask = [Bool](repeating: false, count: count) }
                        mask![index] = true
                        pixels[index] = 0
                    } else if exponent == 0 {
                        pixels[index] = 0
                    }
                }
            }
        }
        return (pixels, mask)
    }

    /// Whether any value has an all-zeros or all-ones exponent (the exponent field minus one,
    /// unsigned, is then at least 0x7F7F_FFFF; for every other exponent it is below).
    private static func holdsSpecialValue(_ values: UnsafeBufferPointer<Float>) -> Bool {
        var found: UInt32 = 0
        for value in values {
            found |= (value.bitPattern & 0x7F80_0000) &- 1 >= 0x7F7F_FFFF ? 1 : 0
        }
        return found != 0
    }

    /// Turns a failed status into the error a user understands.
    func check(_ status: Int32, reading action: String, hdu: Int?) throws {
        guard status > 0 else { return }
        let text = CFITSIOStatus.text(status)
        switch status {
        case CFITSIOStatus.endOfFile, CFITSIOStatus.readError:
            let what = hdu.map { "HDU \($0) ends before the size its header declares" }
                ?? "the file ends early"
            throw FITSError(file: name, reason: .truncated("\(what) (CFITSIO: \(text))"))
        default:
            throw FITSError(file: name, reason: .cfitsio(action: action, status: status, message: text))
        }
    }
}
