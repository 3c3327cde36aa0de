import Foundation

/// FLUX_WIN, FLUXERR_WIN and FLAGS_WIN as SExtractor's winpos.c defines them: the sum of the
/// pixels weighted by a Gaussian of the windowed-position sigma (out to 4 sigma, the edge
/// pixels sampled 11 x 11), its error from the pixel variances (plus Poisson noise with a
/// gain), and the flags of the windowed moments. SEP has no windowed flux, so it is measured
/// here, at SEP's windowed position with SEP's sigma (SExtractor's last iteration differs by
/// less than its 1e-4 pixel convergence step). Bad pixels count as 0, as MASK_TYPE NONE.
public struct WindowedFlux: Equatable, Sendable {
    public var flux: Double
    public var error: Double
    /// 1: the windowed moments are singular; 2: a windowed second moment is negative;
    /// 4: the windowed flux is not positive; 8: the windowed position is more than the
    /// 1-sigma footprint away from the isophotal one (SExtractor then reverts XWIN; SEP does not).
    public var flags: Int

    static let notMeasured = WindowedFlux(flux: .nan, error: .nan, flags: 0)

    static let oversampling = 11
    static let radiusInSigmas = 4.0

    struct Pixels {
        var data: [Float]
        var mask: SkyImage.Mask?
        var width: Int
        var height: Int
        var noise: NoiseInput
        /// Poisson term: variance += pixel * inverseGain (times variance / backgroundVariance with WEIGHT_GAIN).
        var inverseGain: Double
        var gainScalesWithWeight: Bool
        var backgroundVariance: Double
    }

    static func measure(_ pixels: Pixels, x mx: Double, y my: Double, sigma: Double, object: SEPObject) -> WindowedFlux {
        guard mx.isFinite, my.isFinite, sigma.isFinite, sigma > 0 else { return WindowedFlux(flux: .nan, error: .nan, flags: 4) }
        let raper = radiusInSigmas * sigma, raper2 = raper * raper
        let invTwoSigma2 = 1 / (2 * sigma * sigma)
        let rintlim = raper - 0.75, rintlim2 = rintlim > 0 ? rintlim * rintlim : 0
        let rextlim2 = (raper + 0.75) * (raper + 0.75)
        let scale = 1 / Double(oversampling), scale2 = scale * scale, offset = 0.5 * (scale - 1)
        let xmin = max(Int(mx - raper + 0.499999), 0), xmax = min(Int(mx + raper + 1.499999), pixels.width)
        let ymin = max(Int(my - raper + 0.499999), 0), ymax = min(Int(my + raper + 1.499999), pixels.height)
        var tv = 0.0, esum = 0.0, dxpos = 0.0, dypos = 0.0, mx2 = 0.0, my2 = 0.0, mxy = 0.0
        if xmin < xmax, ymin < ymax {
            for y in ymin..<ymax {
                for x in xmin..<xmax {
                    let dx = Double(x) - mx, dy = Double(y) - my
                    let r2 = dx * dx + dy * dy
                    guard r2 < rextlim2 else { continue }
                    var area = 1.0
                    if r2 > rintlim2 {
                        area = 0
                        var sy = dy + offset
                        for _ in 0..<oversampling {
                            var sx = dx + offset
                            for _ in 0..<oversampling {
                                if sx * sx + sy * sy < raper2 { area += scale2 }
                                sx += scale
                            }
                            sy += scale
                        }
                    }
                    area *= exp(-r2 * invTwoSigma2)
                    let index = y * pixels.width + x
                    var pixel = Double(pixels.data[index])
                    var variance = pixels.noise.variance(at: index)
                    if pixel.isNaN || pixel <= -1e30 || pixels.mask?.isBad(index) == true {
                        pixel = 0
                        variance = 0
                    }
                    let weighted = area * pixel
                    tv += weighted
                    dxpos += weighted * dx
                    dypos += weighted * dy
                    mx2 += weighted * dx * dx
                    my2 += weighted * dy * dy
                    mxy += weighted * dx * dy
                    var error = variance
                    if pixels.inverseGain > 0, pixel > 0 {
                        error += pixels.gainScalesWithWeight && pixels.backgroundVariance > 0
                            ? pixel * pixels.inverseGain * variance / pixels.backgroundVariance
                            : pixel * pixels.inverseGain
                    }
                    esum += area * area * error
                }
            }
        }
        var flags = 0
        if tv > 0 {
            dxpos /= tv
            dypos /= tv
            mx2 = mx2 / tv - dxpos * dxpos
            my2 = my2 / tv - dypos * dypos
            mxy = mxy / tv - dxpos * dypos
            if mx2 * my2 - mxy * mxy < 0 { flags |= 1 }
            if mx2 < 0 || my2 < 0 { flags |= 2 }
        } else {
            flags |= 4
        }
        // The windowed position against the isophotal one and its footprint ellipse.
        let ddx = mx - object.x, ddy = my - object.y
        let cxx = Double(object.cxx), cyy = Double(object.cyy), cxy = Double(object.cxy)
        if ddx * ddx > 1, ddy * ddy > 1, cxx * ddx * ddx + cyy * ddy * ddy + cxy * ddx * ddy > 1 { flags |= 8 }
        return WindowedFlux(flux: tv, error: esum.squareRoot(), flags: flags)
    }
}

extension NoiseInput {
    /// The variance of pixel `index` (0 when there is no noise).
    func variance(at index: Int) -> Double {
        switch self {
        case .none: return 0
        case .scalar(let sigma): return sigma * sigma
        case .map(let sigmas): let sigma = Double(sigmas[index]); return sigma * sigma
        }
    }
}
