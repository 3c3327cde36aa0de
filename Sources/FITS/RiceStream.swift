/// A Rice-compressed tile checked before CFITSIO decodes it. CFITSIO's decoder (fits_rdecomp,
/// and its short and byte variants) has had no end-of-buffer checks inside a block since 3.08:
/// a tile whose bits lie reads past its buffer (the libFuzzer harness found it at once, a SEGV
/// under ASan) and turns the bytes it finds there into pixels. This walks the bits exactly as the
/// decoder consumes them, without decoding, and says whether `pixels` values fit in the stream.
struct RiceStream {
    /// Pixels per coding block (ZNAME BLOCKSIZE, default 32).
    var blockSize: Int
    /// Bytes per decoded value (ZNAME BYTEPIX, default 4): which decoder CFITSIO picks.
    var bytesPerPixel: Int

    /// True when decoding `pixels` values reads only `bytes`.
    func holds(_ bytes: UnsafeBufferPointer<UInt8>, pixels: Int) -> Bool {
        guard blockSize >= 1 else { return false }
        let (fsBits, fsMax) = bytesPerPixel == 1 ? (3, 6) : bytesPerPixel == 2 ? (4, 14) : (5, 25)
        let directBits = 1 << fsBits
        // The first value is stored as is; then a bit reader over the rest.
        var reader = BitReader(bytes: bytes, position: min(bytes.count, bytesPerPixel == 1 || bytesPerPixel == 2 ? bytesPerPixel : 4))
        var done = 0
        while done < pixels {
            guard let code = reader.read(fsBits) else { return false }
            let fs = code - 1
            let count = min(blockSize, pixels - done)
            if fs == fsMax {
                guard reader.skip(directBits * count) else { return false }
            } else if fs >= 0 {
                for _ in 0..<count {
                    guard reader.skipUnary(), reader.skip(fs) else { return false }
                }
            }
            done += count
        }
        return true
    }
}

/// Bits most significant first, failing rather than reading past the end.
private struct BitReader {
    let bytes: UnsafeBufferPointer<UInt8>
    /// The next bit, counted from the start of `bytes`.
    var bit: Int

    init(bytes: UnsafeBufferPointer<UInt8>, position: Int) {
        self.bytes = bytes
        bit = position * 8
    }

    private var available: Int { bytes.count * 8 - bit }

    mutating func read(_ count: Int) -> Int? {
        guard count <= available else { return nil }
        var value = 0
        for _ in 0..<count {
            value = value << 1 | Int(bytes[bit >> 3] >> (7 - UInt8(bit & 7)) & 1)
            bit += 1
        }
        return value
    }

    mutating func skip(_ count: Int) -> Bool {
        guard count <= available else { return false }
        bit += count
        return true
    }

    /// Zeros up to and including the next one bit.
    mutating func skipUnary() -> Bool {
        while bit < bytes.count * 8 {
            let byte = bytes[bit >> 3] << UInt8(bit & 7)
            if byte != 0 {
                bit += byte.leadingZeroBitCount + 1
                return true
            }
            bit = (bit | 7) + 1  // the rest of this byte is zeros
        }
        return false
    }
}
