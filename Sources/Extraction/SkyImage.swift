/// One image plane ready for SEP: row-major `Float` pixels plus an optional bad-pixel mask.
///
/// The arrays are stored as given (Swift arrays are copy-on-write), so building a
/// `SkyImage` from the FITS module's pixel array does not copy the pixels.
public struct SkyImage: Sendable {
    /// Pixels flagged as bad. A true/nonzero entry marks the pixel as bad.
    public enum Mask: Sendable, Equatable {
        case booleans([Bool])
        case bytes([UInt8])

        var count: Int {
            switch self {
            case .booleans(let flags): return flags.count
            case .bytes(let flags): return flags.count
            }
        }

        func isBad(_ index: Int) -> Bool {
            switch self {
            case .booleans(let flags): return flags[index]
            case .bytes(let flags): return flags[index] != 0
            }
        }
    }

    public let width: Int
    public let height: Int
    public let pixels: [Float]
    public let mask: Mask?
    /// Names the image in error messages (a file name or URI).
    public let label: String
    /// The WEIGHT_IMAGE's pixels, in the units `ExtractionParameters.weight` says (NaN is bad).
    public private(set) var weightMap: [Float]?
    /// The FLAG_IMAGE's pixels (integers), for IMAFLAGS_ISO.
    public private(set) var flagMap: [Int32]?

    /// Checks that the sizes agree; throws `ExtractionError.invalidImage` when they do not.
    public init(width: Int, height: Int, pixels: [Float], mask: Mask? = nil,
                label: String = "image") throws {
        guard width > 0, height > 0 else {
            throw ExtractionError.invalidImage(label, "has no pixels (\(width)x\(height))")
        }
        guard width <= Int(Int32.max), height <= Int(Int32.max),
              width.multipliedReportingOverflow(by: height).overflow == false else {
            throw ExtractionError.invalidImage(label, "is too large for SEP (\(width)x\(height))")
        }
        guard pixels.count == width * height else {
            throw ExtractionError.invalidImage(
                label, "has \(pixels.count) pixels but is declared \(width)x\(height)")
        }
        if let mask, mask.count != pixels.count {
            throw ExtractionError.invalidImage(
                label, "has a mask of \(mask.count) entries for \(pixels.count) pixels")
        }
        self.width = width
        self.height = height
        self.pixels = pixels
        self.mask = mask
        self.label = label
    }

    /// A true entry marks a bad pixel.
    public init(width: Int, height: Int, pixels: [Float], mask: [Bool],
                label: String = "image") throws {
        try self.init(width: width, height: height, pixels: pixels, mask: .booleans(mask), label: label)
    }

    /// A nonzero entry marks a bad pixel.
    public init(width: Int, height: Int, pixels: [Float], mask: [UInt8],
                label: String = "image") throws {
        try self.init(width: width, height: height, pixels: pixels, mask: .bytes(mask), label: label)
    }

    /// This image with a weight map (WEIGHT_IMAGE) of the same size.
    public func withWeightMap(_ map: [Float], source: String) throws -> SkyImage {
        try requireSameSize(map.count, source)
        var copy = self
        copy.weightMap = map
        return copy
    }

    /// This image with a flag map (FLAG_IMAGE) of the same size.
    public func withFlagMap(_ map: [Int32], source: String) throws -> SkyImage {
        try requireSameSize(map.count, source)
        var copy = self
        copy.flagMap = map
        return copy
    }

    /// The same pixels with another mask (weights below threshold join the bad pixels).
    func withMask(_ mask: Mask?) -> SkyImage {
        var copy = try! SkyImage(width: width, height: height, pixels: pixels, mask: mask, label: label)
        copy.weightMap = weightMap
        copy.flagMap = flagMap
        return copy
    }

    private func requireSameSize(_ count: Int, _ source: String) throws {
        guard count == pixels.count else {
            throw ExtractionError.invalidImage(label, "has \(width)x\(height) pixels but its map \(source) has \(count)")
        }
    }

    /// The number of pixels SEP can use: not masked, not NaN, above SEP's -1e30 blank value.
    public var usablePixelCount: Int {
        var count = 0
        for index in pixels.indices {
            let value = pixels[index]
            if value.isNaN || value <= -1e30 { continue }
            if let mask, mask.isBad(index) { continue }
            count += 1
        }
        return count
    }
}
