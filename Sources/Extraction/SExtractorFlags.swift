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
    private static let sepMerged: Int16 = 0x0001, sepTruncated: Int16 = 0x0002, sepApertureTruncated: Int16 = 0x0010

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

        func isForeign(label other: Int32, to owner: Int32) -> Bool {
            other != 0 && other != owner && groups[Int(other) - 1] != groups[Int(owner) - 1]
        }
    }

    static func isCrowded(_ object: SEPObject, number: Int32, photometry: SourcePhotometry,
                          parameters: ExtractionParameters, segmentation: Neighbourhood?,
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
                                        radius: Double, owner: Int32, segmentation: Neighbourhood?, image: SkyImage) -> Double {
        guard mx.isFinite, my.isFinite, radius > 0, cxx.isFinite, cyy.isFinite, cxy.isFinite else { return 0 }
        let xReach = cxx - cxy * cxy / (4 * cyy), yReach = cyy - cxy * cxy / (4 * cxx)
        let dxlim = xReach > 0 ? radius / xReach.squareRoot() : 0, dylim = yReach > 0 ? radius / yReach.squareRoot() : 0
        let xmin = max(Int((mx - dxlim).rounded()), 0), xmax = min(Int((mx + dxlim).rounded()) + 1, image.width)
        let ymin = max(Int((my - dylim).rounded()), 0), ymax = min(Int((my + dylim).rounded()) + 1, image.height)
        guard xmin < xmax, ymin < ymax else { return 0 }
        let limit = radius * radius
        var area = 0, foreign = 0
        let width = image.width
        // Unsafe buffers and the mask's case decided once: this runs over every object's apertures.
        func inside(_ x: Int, _ dy: Double) -> Bool {
            let dx = Double(x) - mx
            return cxx * dx * dx + cyy * dy * dy + cxy * dx * dy <= limit
        }
        image.pixels.withUnsafeBufferPointer { pixels in
            withMaskBytes(image.mask) { mask in
                for y in ymin..<ymax {
                    let dy = Double(y) - my
                    for x in xmin..<xmax where inside(x, dy) {
                        area += 1
                        let index = y * width + x
                        let value = pixels[index]
                        if value.isNaN || value <= -1e30 || (mask.map { $0[index] != 0 } ?? false) { foreign += 1 }
                    }
                    // Good pixels another detection owns: the row's labelled pixels in the ellipse.
                    segmentation?.segmentation.forEachLabel(row: y, in: xmin..<xmax) { x, label in
                        guard segmentation!.isForeign(label: label, to: owner), inside(x, dy) else { return }
                        let index = y * width + x
                        let value = pixels[index]
                        let bad = value.isNaN || value <= -1e30 || (mask.map { $0[index] != 0 } ?? false)
                        if !bad { foreign += 1 }
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
