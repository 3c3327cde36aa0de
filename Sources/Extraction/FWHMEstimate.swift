import Foundation

/// SExtractor's FWHM_IMAGE: a Gaussian core fitted to the object's own pixels. Over the pixels
/// brighter than a fifth of the peak (and at least the detection threshold), log(value) is fitted
/// as a line in the squared distance to the barycenter, weighted by value squared; the slope b
/// gives FWHM = 1.6651 / sqrt(b) (2 sqrt(ln 2 / b)), capped at about 6 sigma of the object's
/// A and B, less SExtractor's undersampling correction 1 / (4 FWHM). 0 when no fit is possible.
public enum FWHMEstimate {
    /// The objects a frame's seeing is the median FWHM of (the frame table's FWHM): unflagged,
    /// round (A/B at most `seeingMaximumElongation`) and bright (peak at least
    /// `seeingMinimumPeakSigmas` x the background rms). Without FWHM_IMAGE among the columns,
    /// only these are measured: the fit reads every pixel of an object and takes a log of most.
    public static let seeingMaximumElongation = 1.5
    public static let seeingMinimumPeakSigmas = 20.0

    public static func isSeeingStar(_ object: SEPObject, flags: Int, backgroundRMS: Float) -> Bool {
        flags == 0 && object.b > 0 && Double(object.a / object.b) <= seeingMaximumElongation
            && Double(object.peak) >= seeingMinimumPeakSigmas * Double(backgroundRMS)
    }

    /// `pixels` are linear indices (y * width + x) into `data`, the background-subtracted image.
    static func fwhm(of object: SEPObject, pixels: ArraySlice<Int32>, data: UnsafeBufferPointer<Float>,
                     width: Int) -> Float {
        let floor = max(Double(object.peak) / 5, Double(object.thresh))
        guard floor > 0, width > 0 else { return 0 }
        var s = 0.0, sx = 0.0, sxx = 0.0, sy = 0.0, sxy = 0.0
        for index in pixels {
            let linear = Int(index)
            guard linear >= 0, linear < data.count else { continue }
            let value = Double(data[linear])
            guard value > floor else { continue }
            let dx = Double(linear % width) - object.x, dy = Double(linear / width) - object.y
            let d2 = dx * dx + dy * dy, weight = value * value, logValue = log(value)
            s += weight
            sx += d2 * weight
            sxx += d2 * d2 * weight
            sy += logValue * weight
            sxy += logValue * d2 * weight
        }
        let determinant = s * sxx - sx * sx
        guard abs(determinant) > 0 else { return 0 }
        var slope = -(s * sxy - sx * sy) / determinant
        let smallest = 1 / (13 * Double(object.a) * Double(object.b))  // FWHM at most about 6 sigma
        if !(slope >= smallest) { slope = smallest }
        guard slope.isFinite, slope > 0 else { return 0 }
        var fwhm = 1.6651 / slope.squareRoot()
        if fwhm > 0 { fwhm -= 1 / (4 * fwhm) }  // SExtractor's undersampling correction
        return Float(max(fwhm, 0))
    }
}
