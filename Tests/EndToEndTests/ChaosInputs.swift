import Foundation
import TestSupport

/// The hostile images of the bad-inputs scenario, written by astropy/numpy (not by us).
enum BadInputs {
    /// Inputs that cannot give a catalog: each must be reported failed, naming the file.
    static let mustFail = ["corrupt-header.fits", "truncated.fits", "empty.fits", "not-fits.fits", "all-nan.fits",
                           "zero-size.fits"]
    /// Inputs that may give a catalog or fail cleanly: a header with thousands of cards (must
    /// succeed: checked apart), a crowded frame that overflows SEP's pixel stack.
    static let mayFail = ["huge-header.fits", "crowded.fits"]

    /// argv[1] = directory to write into, argv[2] = a good frame to derive from.
    static let script = """
    import sys, os, numpy as np
    from astropy.io import fits
    out, src = sys.argv[1], sys.argv[2]
    good = open(src, 'rb').read()
    # A header card garbled in the middle of the keyword block.
    bad = bytearray(good); bad[80:160] = b'NAXIS1  = not-a-number / garbled' .ljust(80); open(os.path.join(out, 'corrupt-header.fits'), 'wb').write(bad)
    open(os.path.join(out, 'truncated.fits'), 'wb').write(good[:len(good) // 2])
    open(os.path.join(out, 'empty.fits'), 'wb').write(b'')
    open(os.path.join(out, 'not-fits.fits'), 'wb').write(b'this is a text file, not an image\\n' * 100)
    fits.PrimaryHDU(np.full((256, 256), np.nan, dtype=np.float32)).writeto(os.path.join(out, 'all-nan.fits'))
    # NAXIS1 = 0: a header that promises an image of no pixels.
    h = fits.Header(); h['SIMPLE'] = True; h['BITPIX'] = -32; h['NAXIS'] = 2; h['NAXIS1'] = 0; h['NAXIS2'] = 16
    open(os.path.join(out, 'zero-size.fits'), 'wb').write(h.tostring().encode())
    with fits.open(src) as f:
        data, header = f[0].data, f[0].header.copy()
    for i in range(5000):
        header.add_comment('chaos padding card %d' % i)
    fits.PrimaryHDU(data, header).writeto(os.path.join(out, 'huge-header.fits'))
    # Thousands of overlapping stars: one blended region far larger than the default pixel stack.
    rng = np.random.default_rng(3)
    img = rng.normal(100, 5, (1400, 1400)).astype(np.float32)
    yy, xx = np.mgrid[0:1400, 0:1400]
    for cy in range(20, 1380, 7):
        for cx in range(20, 1380, 7):
            img[cy-3:cy+4, cx-3:cx+4] += 500 * np.exp(-((yy[cy-3:cy+4, cx-3:cx+4]-cy)**2 + (xx[cy-3:cy+4, cx-3:cx+4]-cx)**2) / 8.0)
    fits.PrimaryHDU(img).writeto(os.path.join(out, 'crowded.fits'))
    """
}

/// A small deterministic generator, so a failing soak round can be replayed from its seed.
struct SeededRandom {
    private var state: UInt64
    init(_ seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

    mutating func nextBits() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }

    mutating func next(in range: ClosedRange<Double>) -> Double {
        range.lowerBound + Double(nextBits() % 1_000_000) / 1_000_000 * (range.upperBound - range.lowerBound)
    }

    mutating func index(_ count: Int) -> Int { Int(nextBits() % UInt64(count)) }
}

