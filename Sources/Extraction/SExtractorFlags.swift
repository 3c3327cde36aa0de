import Foundation

/// SExtractor's FLAGS bits, made from what SEP measured (SEP's own bits are SEP_FLAGS):
///
/// | bit | SExtractor's meaning | made from |
/// |---|---|---|
/// | 1 | neighbours or bad pixels are over 10 % of the AUTO apertures | the Kron-radius and FLUX_AUTO ellipses, pixel centres: bad pixels and pixels of other detections (not of objects deblended from the same one, which SExtractor does not mask either); only when FLUX_AUTO is measured, as in SExtractor |
/// | 2 | deblended | SEP_OBJ_MERGED |
/// | 4 | saturated | FLUX_MAX + the background at the centroid's pixel >= SATUR_LEVEL (SExtractor's test) |
/// | 8 | truncated at the image border | SEP_OBJ_TRUNC |
/// | 16 | aperture data incomplete | SEP_APER_TRUNC of any aperture (APER, Kron, AUTO, FLUX_RADIUS, windowed) |
/// | 32 | isophotal data incomplete | never: SEP holds the whole image (SExtractor's strip buffer) |
/// | 64 | deblending overflow | every object of an image that had to be extracted without deblending |
/// | 128 | extraction overflow | never: a full pixel stack is retried until it fits |
enum SExtractorFlags {
    static let crowded = 1
    static let deblended = 2
    static let saturated = 4
    static let truncated = 8
    static let apertureIncomplete = 16
    static let deblendOverflow = 64

    /// Over this fraction of bad or foreign pixels, the photometry is flagged as crowded.
    static let crowdThreshold = 0.1
    static let sepMerged: Int16 = 0x0001
    private static let sepTruncated: Int16 = 0x0002, sepApertureTruncated: Int16 = 0x0010

    static func flags(of object: SEPObject, photometry: SourcePhotometry, backgroundAtCentroid: Float,
                      saturationLevel: Double, crowded: Bool) -> Int {
        var flags = 0
        if crowded { flags |= Self.crowded }
        if object.flag & sepMerged != 0 { flags |= deblended }
        // In float, as SExtractor's obj->peak + obj->bkg >= field->satur_level.
        if object.peak + backgroundAtCentroid >= Float(saturationLevel) { flags |= saturated }
        if object.flag & sepTruncated != 0 { flags |= truncated }
        if photometry.flags & sepApertureTruncated != 0 { flags |= apertureIncomplete }
        return flags
    }

    /// Bit 1: in the Kron-radius ellipse (6 in a, b units) or the FLUX_AUTO aperture, more than
    /// 10 % of the pixels are bad or belong to another object (SExtractor masks them).
    struct Neighbourhood {
        var segmentation: SparseSegmentation
        /// Per object: which detection it came from (see `ObjectPixels.detectionGroups`).
        var groups: [Int]
        /// Rows with a bad pixel (NaN, <= -1e30 or masked) before each row (`height + 1` counts):
        /// whether one row, or any row of a range, has any. Most rows have none, and then the
        /// apertures' pixels need not be read at all: reading them was most of this flag's cost
        /// (cache misses around every object).
        private var badRowsBefore: [Int32]
        /// The objects' boxes: whether another detection can own a pixel of an aperture at all.
        private var grid: ObjectGrid

        init(pixels: ObjectPixels, image: SkyImage, deblended: (Int) -> Bool) {
            segmentation = SparseSegmentation(pixels, width: image.width, height: image.height)
            groups = pixels.detectionGroups(segmentation: segmentation, deblended: deblended)
            grid = ObjectGrid(pixels, width: image.width, height: image.height)
            var before = [Int32](repeating: 0, count: image.height + 1)
            for (row, bad) in Self.badRows(image).enumerated() { before[row + 1] = before[row] + (bad ? 1 : 0) }
            badRowsBefore = before
        }

        func rowHasBadPixels(_ y: Int) -> Bool { badRowsBefore[y + 1] > badRowsBefore[y] }

        /// False when no pixel of the box `x` by `y` can count against `owner`: no bad pixel in
        /// its rows and no other detection's box meets it. Exact, as a foreign pixel lies in its
        /// owner's box; most apertures end here.
        func mayHaveForeignPixels(x: Range<Int>, y: Range<Int>, owner: Int32) -> Bool {
            badRowsBefore[y.upperBound] > badRowsBefore[y.lowerBound]
                || grid.anyObject(meeting: x, y) { isForeign(label: Int32($0 + 1), to: owner) }
        }

        /// Whether every value is > -1e30 (NaN is not), 16 at a time.
        private static func allAboveBlank(_ values: UnsafeBufferPointer<Float>) -> Bool {
            let blank = SIMD16<Float>(repeating: -1e30), raw = UnsafeRawPointer(values.baseAddress!)
            var index = 0
            while index + 16 <= values.count {
                let chunk = raw.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self)
                guard all(chunk .> blank) else { return false }
                index += 16
            }
            while index < values.count {
                guard values[index] > -1e30 else { return false }
                index += 1
            }
            return true
        }

        private static func badRows(_ image: SkyImage) -> [Bool] {
            let width = image.width
            return image.pixels.withUnsafeBufferPointer { pixels in
                withMaskBytes(image.mask) { mask in
                    (0..<image.height).map { y in
                        let start = y * width
                        if let mask, mask[start..<(start + width)].contains(where: { $0 != 0 }) { return true }
                        return !allAboveBlank(UnsafeBufferPointer(rebasing: pixels[start..<(start + width)]))
                    }
                }
            }
        }

        func isForeign(label other: Int32, to owner: Int32) -> Bool {
            other != 0 && other != owner && groups[Int(other) - 1] != groups[Int(owner) - 1]
        }
    }

    static func isCrowded(_ object: SEPObject, number: Int32, photometry: SourcePhotometry,
                          parameters: ExtractionParameters, segmentation: Neighbourhood,
                          image: SkyImage) -> Bool {
        let a = Double(object.a), b = Double(object.b), theta = Double(object.theta)
        let (cxx, cyy, cxy) = coefficients(a: a, b: b, theta: theta)
        if foreignFraction(x: object.x, y: object.y, cxx: cxx, cyy: cyy, cxy: cxy, radius: Photometry.kronEllipseScale,
                           owner: number, segmentation: segmentation, image: image) > crowdThreshold { return true }
        let radius = parameters.kronFactor * photometry.kronRadius
        if photometry.autoIsCircle || !radius.isFinite {
            let r = parameters.kronMinimumRadius
            return foreignFraction(x: object.x, y: object.y, cxx: 1 / (r * r), cyy: 1 / (r * r), cxy: 0, radius: 1,
                                   owner: number, segmentation: segmentation, image: image) > crowdThreshold
        }
        return foreignFraction(x: object.x, y: object.y, cxx: cxx, cyy: cyy, cxy: cxy, radius: radius,
                               owner: number, segmentation: segmentation, image: image) > crowdThreshold
    }

    /// sep_ellipse_coeffs.
    static func coefficients(a: Double, b: Double, theta: Double) -> (Double, Double, Double) {
        let c = cos(theta), s = sin(theta)
        return (c * c / (a * a) + s * s / (b * b), s * s / (a * a) + c * c / (b * b), 2 * c * s * (1 / (a * a) - 1 / (b * b)))
    }

    private static func foreignFraction(x mx: Double, y my: Double, cxx: Double, cyy: Double, cxy: Double,
                                        radius: Double, owner: Int32, segmentation: Neighbourhood, image: SkyImage) -> Double {
        guard mx.isFinite, my.isFinite, radius > 0, cxx.isFinite, cyy.isFinite, cxy.isFinite else { return 0 }
        let xReach = cxx - cxy * cxy / (4 * cyy), yReach = cyy - cxy * cxy / (4 * cxx)
        let dxlim = xReach > 0 ? radius / xReach.squareRoot() : 0, dylim = yReach > 0 ? radius / yReach.squareRoot() : 0
        let xmin = max(Int((mx - dxlim).rounded()), 0), xmax = min(Int((mx + dxlim).rounded()) + 1, image.width)
        let ymin = max(Int((my - dylim).rounded()), 0), ymax = min(Int((my + dylim).rounded()) + 1, image.height)
        guard xmin < xmax, ymin < ymax,
              segmentation.mayHaveForeignPixels(x: xmin..<xmax, y: ymin..<ymax, owner: owner) else { return 0 }
        let limit = radius * radius
        var area = 0, foreign = 0
        let width = image.width
        let span = EllipseRows(mx: mx, my: my, cxx: cxx, cyy: cyy, cxy: cxy, limit: limit)
        // Unsafe buffers and the mask's case decided once: this runs over every object's apertures.
        image.pixels.withUnsafeBufferPointer { pixels in
            withMaskBytes(image.mask) { mask in
                func isBad(_ index: Int) -> Bool {
                    let value = pixels[index]
                    return value.isNaN || value <= -1e30 || (mask.map { $0[index] != 0 } ?? false)
                }
                for y in ymin..<ymax {
                    let columns = span.columns(row: y, within: xmin..<xmax)
                    guard !columns.isEmpty else { continue }
                    area += columns.count
                    let rowStart = y * width, anyBad = segmentation.rowHasBadPixels(y)
                    if anyBad { for x in columns where isBad(rowStart + x) { foreign += 1 } }
                    // Good pixels another detection owns: the row's labelled pixels in the ellipse.
                    segmentation.segmentation.forEachLabel(row: y, in: columns) { x, label in
                        if segmentation.isForeign(label: label, to: owner), !anyBad || !isBad(rowStart + x) { foreign += 1 }
                    }
                }
            }
        }
        return area > 0 ? Double(foreign) / Double(area) : 0
    }
}

/// IMAFLAGS_ISO and NIMAFLAGS_ISO (SExtractor's flag.c): the flag-image values under an object's
/// isophotal pixels, combined by FLAG_TYPE, and how many pixels entered the result. Only nonzero
/// values enter; AND is the bitwise AND of those (SExtractor 2.25's AND starts from 0, always 0).
public struct ImageFlags: Equatable, Sendable {
    public var value: Int
    public var count: Int

    static func combine<S: Sequence>(_ values: S, _ combination: FlagImageOptions.Combination) -> ImageFlags
    where S.Element == Int32 {
        var result = 0, count = 0
        switch combination {
        case .or:
            for value in values where value != 0 { result |= Int(value); count += 1 }
        case .and:
            for value in values where value != 0 { result = count == 0 ? Int(value) : result & Int(value); count += 1 }
        case .min, .max:
            for value in values where value != 0 {
                let v = Int(value)
                if count == 0 || (combination == .min ? v < result : v > result) {
                    result = v
                    count = 1
                } else if v == result {
                    count += 1
                }
            }
        case .most:
            var tally: [Int: Int] = [:], order: [Int] = []
            for value in values where value != 0 {
                let v = Int(value)
                if tally[v] == nil { order.append(v) }
                tally[v, default: 0] += 1
            }
            for v in order where tally[v]! > count { result = v; count = tally[v]! }
        }
        return ImageFlags(value: result, count: count)
    }
}

/// The mask as bytes (Bool is one byte holding 0 or 1), nil without one.
private func withMaskBytes<T>(_ mask: SkyImage.Mask?, _ body: (UnsafeBufferPointer<UInt8>?) -> T) -> T {
    switch mask {
    case .none: return body(nil)
    case .bytes(let bytes): return bytes.withUnsafeBufferPointer { body($0) }
    case .booleans(let flags):
        return flags.withUnsafeBytes { raw in body(UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: raw.count)) }
    }
}

/// The pixels of each row whose centres lie in the ellipse cxx dx² + cyy dy² + cxy dx dy <= limit
/// (dx, dy from the centre): an interval per row, since the form is convex in dx. Its ends come
/// from the quadratic's roots and are then settled by the same test a pixel-by-pixel scan makes,
/// so the pixels are exactly those that scan would count.
struct EllipseRows {
    let mx: Double, my: Double, cxx: Double, cyy: Double, cxy: Double, limit: Double

    func contains(x: Int, y: Int) -> Bool {
        let dx = Double(x) - mx, dy = Double(y) - my
        return cxx * dx * dx + cyy * dy * dy + cxy * dx * dy <= limit
    }

    /// The columns of row `y` inside the ellipse, clipped to `bounds`.
    func columns(row y: Int, within bounds: Range<Int>) -> Range<Int> {
        guard !bounds.isEmpty else { return bounds }
        // Convexity holds by a margin of 2 cxx between neighbours; far below that, rounding could
        // break the interval, so scan then (never for a real aperture).
        guard cxx > 1e-9, cxx.isFinite else { return scanned(row: y, within: bounds) }
        let dy = Double(y) - my
        let b = cxy * dy, c = cyy * dy * dy - limit
        let discriminant = b * b - 4 * cxx * c
        guard discriminant.isFinite else { return scanned(row: y, within: bounds) }
        let root = max(discriminant, 0).squareRoot()
        let low = mx + (-b - root) / (2 * cxx), high = mx + (-b + root) / (2 * cxx)
        guard low.isFinite, high.isFinite else { return scanned(row: y, within: bounds) }
        // No real root: only the two pixels beside the vertex can be inside, by rounding.
        let estimate = discriminant < 0 ? (low.rounded(.down), low.rounded(.up)) : (low.rounded(.up), high.rounded(.down))
        let lower = Double(bounds.lowerBound), upper = Double(bounds.upperBound - 1)
        var first = Int(min(max(estimate.0, lower), upper + 1)), last = Int(min(max(estimate.1, lower - 1), upper))
        if first > last + 1 { first = last + 1 }  // clipped away: empty, beside the bounds
        // Settle the ends with the exact test: out while the next pixel is inside, in while the
        // end pixel is outside.
        while first > bounds.lowerBound, contains(x: first - 1, y: y) { first -= 1 }
        while first <= last, !contains(x: first, y: y) { first += 1 }
        if first > last { last = first - 1 }
        while last + 1 < bounds.upperBound, contains(x: last + 1, y: y) { last += 1 }
        while last >= first, !contains(x: last, y: y) { last -= 1 }
        return first..<max(first, last + 1)
    }

    /// Every pixel tested: the fallback for near-degenerate forms (semi-axes of ~10^4 pixels and
    /// more). Returns the run from the first inside pixel to the last: the form is convex in dx.
    private func scanned(row y: Int, within bounds: Range<Int>) -> Range<Int> {
        guard let first = bounds.first(where: { contains(x: $0, y: y) }),
              let last = bounds.last(where: { contains(x: $0, y: y) }) else { return bounds.lowerBound..<bounds.lowerBound }
        return first..<(last + 1)
    }
}
