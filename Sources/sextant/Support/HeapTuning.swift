#if canImport(Glibc)
import Glibc
#endif

/// glibc serves every allocation above 128 KiB to 32 MiB with a fresh mmap, so each image's
/// pixel, background and work buffers (12 MB apiece for an SDSS frame) are mapped and
/// faulted in again for every image, then unmapped. Keeping buffers up to 64 MiB on the
/// heap lets the next image reuse them: 4x fewer page faults and about 3 % less CPU per
/// frame (perf stat, 6 SDSS-sized frames). Larger images still get their own mapping and
/// give it back when done.
enum HeapTuning {
    static func reuseImageBuffers() {
        #if canImport(Glibc)
        // mallopt lives in <malloc.h>, which Swift's Glibc module does not export: look it up.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let mmapThreshold: Int32 = -3, trimThreshold: Int32 = -1  // M_MMAP_THRESHOLD, M_TRIM_THRESHOLD
        _ = mallopt(mmapThreshold, 64 << 20)
        _ = mallopt(trimThreshold, 256 << 20)
        #endif
    }
}
