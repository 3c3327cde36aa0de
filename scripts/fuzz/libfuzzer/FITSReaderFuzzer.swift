import Foundation

// libFuzzer's entry point over the FITS module's reading path, compiled into the FITS module
// itself (scripts/fuzz/fits-libfuzzer: swiftc -sanitize=fuzzer,address with Sources/FITS), so it
// sees what `sextant run` does with a file's bytes: the HDU list, then each image HDU read with
// every header check, decompression bound and CFITSIO call, and the header text parser. Any
// crash, trap, leak report or out-of-bounds access is a finding; thrown errors are the expected
// outcome for hostile input. The limits are smaller than the defaults so that inputs that lie
// within them stay cheap.
private let limits = InputLimits(maxPixels: 1 << 22, maxInflatedBytes: 64 << 20)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFITSReader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, size > 0 else { return 0 }
    let bytes = Data(bytes: data, count: size)
    if let hdus = try? FITSImage.imageHDUs(data: bytes, name: "fuzz", limits: limits) {
        for hdu in hdus.prefix(4) {
            if let image = try? FITSImage(data: bytes, name: "fuzz", hdu: .index(hdu), limits: limits) {
                precondition(image.pixels.count == image.width * image.height, "pixels match the shape")
            }
        }
    }
    _ = try? FITSImage(data: bytes, name: "fuzz", hdu: .automatic, limits: limits)
    _ = FITSHeader(headerText: String(decoding: bytes.prefix(80 * 64), as: UTF8.self))
    return 0
}
