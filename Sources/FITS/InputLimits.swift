/// How much one input may make a reader allocate. Every size a header claims is checked
/// against these (and against the file's real length) before any buffer is made, so a
/// hostile or damaged file fails with a one-line reason instead of exhausting the process.
public struct InputLimits: Sendable, Equatable {
    /// Pixels in the image read (NAXIS1 x NAXIS2, or ZNAXISn of a tile-compressed image),
    /// and in one compression tile (ZTILE1 x ZTILE2 ...). 2^28 = a 16384 x 16384 frame,
    /// about 1.3 GB as float32 pixels and mask.
    public var maxPixels: Int
    /// Bytes a gzip'd file may inflate to (it is inflated in memory).
    public var maxInflatedBytes: Int

    public static let defaultMaxPixels = 1 << 28
    /// Room for the header and other HDUs beside the largest image's 8-byte pixels.
    public static let inflationSlack = 64 << 20

    /// `maxInflatedBytes` nil: enough for `maxPixels` 64-bit pixels plus `inflationSlack`.
    public init(maxPixels: Int = InputLimits.defaultMaxPixels, maxInflatedBytes: Int? = nil) {
        self.maxPixels = max(1, maxPixels)
        let (pixels, overflow) = self.maxPixels.multipliedReportingOverflow(by: 8)
        self.maxInflatedBytes = maxInflatedBytes
            ?? (overflow ? Int.max : pixels.addingReportingOverflow(Self.inflationSlack).partialValue)
    }

    public static let standard = InputLimits()
}

/// Arithmetic on sizes taken from a header: nil on overflow or a negative operand, never a trap.
enum CheckedSize {
    static func product(_ values: [Int]) -> Int? {
        var total = 1
        for value in values {
            guard value >= 0 else { return nil }
            let (next, overflow) = total.multipliedReportingOverflow(by: value)
            if overflow { return nil }
            total = next
        }
        return total
    }

    static func sum(_ a: Int, _ b: Int) -> Int? {
        guard a >= 0, b >= 0 else { return nil }
        let (total, overflow) = a.addingReportingOverflow(b)
        return overflow ? nil : total
    }
}
