import CSEP

/// The sum in one aperture, as `sep_sum_*` returns it.
public struct ApertureSum: Equatable, Sendable {
    public var sum: Double
    public var error: Double
    public var area: Double
    public var flag: Int16

    /// SEP rejected the aperture (see `SourcePhotometry.failedFlag`).
    static let failed = ApertureSum(sum: .nan, error: .nan, area: .nan, flag: Photometry.failedFlag)
}

/// What photometry measured for one object, raw from SEP (0-based positions).
public struct SourcePhotometry: Equatable, Sendable {
    /// One per `ExtractionParameters.apertureRadii`, in that order.
    public var apertures: [ApertureSum]
    public var kronRadius: Double
    public var kronFlag: Int16
    /// FLUX_AUTO: the Kron ellipse, or the minimum circle when `autoIsCircle`.
    public var auto: ApertureSum
    public var autoIsCircle: Bool
    public var fluxRadius: Double
    public var fluxRadiusFlag: Int16
    public var xWindowed: Double
    public var yWindowed: Double
    public var windowedIterations: Int32
    public var windowedFlag: Int16

    /// Set in a flag when SEP rejected that measurement's aperture (NaN or degenerate
    /// shape, e.g. near NaN pixels); its value is then NaN. SEP's own bits stop at 0x0080.
    public static let failedFlag: Int16 = Photometry.failedFlag

    /// Nothing measured but the apertures: NaN values, no flags (the columns are not written).
    static func notMeasured(apertures: [ApertureSum]) -> SourcePhotometry {
        SourcePhotometry(apertures: apertures, kronRadius: .nan, kronFlag: 0,
                         auto: ApertureSum(sum: .nan, error: .nan, area: .nan, flag: 0), autoIsCircle: false,
                         fluxRadius: .nan, fluxRadiusFlag: 0, xWindowed: .nan, yWindowed: .nan,
                         windowedIterations: 0, windowedFlag: 0)
    }

    /// Every photometry flag OR'ed together.
    public var flags: Int16 {
        apertures.reduce(kronFlag | auto.flag | fluxRadiusFlag | windowedFlag) { $0 | $1.flag }
    }
}

/// The measurements sep's documentation recipes make after `sep.extract`, call for call:
///
///     sep.sum_circle(d, x, y, r, err=noise, gain=gain, subpix=5)            # FLUX_APER
///     kronrad, kflag = sep.kron_radius(d, x, y, a, b, theta, 6.0)          # KRON_RADIUS
///     sep.sum_ellipse(d, x, y, a, b, theta, 2.5*kronrad, err=, gain=, subpix=1)  # FLUX_AUTO
///     circle where kronrad*sqrt(a*b) < r_min: sep.sum_circle(..., r_min, subpix=1)
///     sep.flux_radius(d, x, y, 6.*a, 0.5, normflux=flux_auto, subpix=5)   # FLUX_RADIUS
///     sep.winpos(d, x, y, max(2./2.35*flux_radius, 2./2.35*0.5))          # XWIN, YWIN
///
/// Sums and their errors see the noise; Kron radius, flux radius and windowed positions
/// are given the data and mask only, as the Python functions are.
enum Photometry {
    /// Set in a measurement's flag when SEP rejected its aperture (NaN or degenerate shape,
    /// e.g. from NaN pixels): that value is NaN and the rest of the catalog is kept.
    /// SEP's own flags use the bits up to 0x0080.
    static let failedFlag: Int16 = 0x0100
    /// SEP statuses that concern one object's aperture, not the image or the library.
    static let perObjectStatuses: Set<Int32> = [5 /* NON_ELLIPSE_PARAMS */, 6 /* ILLEGAL_APER_PARAMS */]

    static let kronEllipseScale = 6.0
    static let fluxRadiusScale = 6.0
    static let minimumWindowSigma = 2.0 / 2.35 * 0.5

    static func measure(objects: [SEPObject], data: [Float], image: SkyImage, noise: NoiseInput,
                        parameters: ExtractionParameters, plan: MeasurementPlan = .all,
                        objectGain: ((SEPObject) -> Double)? = nil,
                        library: SEPLibrary) throws -> [SourcePhotometry] {
        let label = image.label
        return try library.call {
            try withSEPImage(data: data, width: image.width, height: image.height, noise: noise,
                             mask: image.mask, gain: parameters.gain) { noisy in
                try withSEPImage(data: data, width: image.width, height: image.height, noise: .none,
                                 mask: image.mask, gain: nil) { plain in
                    try objects.map { object in
                        if let objectGain { noisy.gain = objectGain(object) }
                        return try measure(object, noisy: &noisy, plain: &plain, parameters: parameters, plan: plan, label: label)
                    }
                }
            }
        }
    }

    private static func measure(_ object: SEPObject, noisy: inout sep_image, plain: inout sep_image,
                                parameters: ExtractionParameters, plan: MeasurementPlan,
                                label: String) throws -> SourcePhotometry {
        let x = object.x, y = object.y
        let a = Double(object.a), b = Double(object.b), theta = Double(object.theta)

        let apertures = plan.apertures ? try parameters.apertureRadii.map { radius in
            try sumCircle(&noisy, x, y, radius, subpixels: parameters.subpixels, label: label)
        } : []
        var result = SourcePhotometry.notMeasured(apertures: apertures)
        guard plan.auto else { return result }

        var cxx = 0.0, cyy = 0.0, cxy = 0.0
        sep_ellipse_coeffs(a, b, theta, &cxx, &cyy, &cxy)
        var kronRadius = 0.0
        var kronFlag: Int16 = 0
        if try !succeeded(sep_kron_radius(&plain, x, y, cxx, cyy, cxy, kronEllipseScale, 0, &kronRadius, &kronFlag),
                          "\(label): sep_kron_radius at (\(x), \(y))") {
            kronRadius = .nan
            kronFlag |= failedFlag
        }

        let autoIsCircle = kronRadius * (a * b).squareRoot() < parameters.kronMinimumRadius
        var auto: ApertureSum
        if autoIsCircle {
            auto = try sumCircle(&noisy, x, y, parameters.kronMinimumRadius,
                                 subpixels: parameters.autoSubpixels, label: label)
        } else {
            auto = ApertureSum(sum: 0, error: 0, area: 0, flag: 0)
            if try !succeeded(sep_sum_ellipse(&noisy, x, y, a, b, theta, parameters.kronFactor * kronRadius, 0,
                                              Int32(parameters.autoSubpixels), 0,
                                              &auto.sum, &auto.error, &auto.area, &auto.flag),
                              "\(label): sep_sum_ellipse at (\(x), \(y))") {
                auto = .failed
            }
        }

        result.kronRadius = kronRadius
        result.kronFlag = kronFlag
        result.auto = auto
        result.autoIsCircle = autoIsCircle
        guard plan.fluxRadius else { return result }

        var fluxRadius = 0.0
        var fluxRadiusFlag: Int16 = 0
        var fraction = parameters.fluxRadiusFraction
        var total = auto.sum
        if try !succeeded(sep_flux_radius(&plain, x, y, fluxRadiusScale * a, 0, Int32(parameters.subpixels), 0,
                                          &total, &fraction, 1, &fluxRadius, &fluxRadiusFlag),
                          "\(label): sep_flux_radius at (\(x), \(y))") {
            fluxRadius = .nan
            fluxRadiusFlag |= failedFlag
        }

        result.fluxRadius = fluxRadius
        result.fluxRadiusFlag = fluxRadiusFlag
        guard plan.windowed else { return result }

        let sigma = windowSigma(fluxRadius: fluxRadius)
        var xWindowed = 0.0, yWindowed = 0.0
        var iterations: Int32 = 0
        var windowedFlag: Int16 = 0
        if try !succeeded(sep_windowed(&plain, x, y, sigma, Int32(parameters.windowedSubpixels), 0,
                                       &xWindowed, &yWindowed, &iterations, &windowedFlag),
                          "\(label): sep_windowed at (\(x), \(y))") {
            xWindowed = .nan
            yWindowed = .nan
            windowedFlag |= failedFlag
        }

        return SourcePhotometry(apertures: apertures, kronRadius: kronRadius, kronFlag: kronFlag,
                                auto: auto, autoIsCircle: autoIsCircle,
                                fluxRadius: fluxRadius, fluxRadiusFlag: fluxRadiusFlag,
                                xWindowed: xWindowed, yWindowed: yWindowed,
                                windowedIterations: iterations, windowedFlag: windowedFlag)
    }

    /// The windowed-position Gaussian's sigma: FLUX_RADIUS as a half-FWHM, at least 0.5 pixel's.
    static func windowSigma(fluxRadius: Double) -> Double {
        let sigma = 2.0 / 2.35 * fluxRadius
        return sigma < minimumWindowSigma ? minimumWindowSigma : sigma
    }

    private static func sumCircle(_ image: inout sep_image, _ x: Double, _ y: Double, _ radius: Double,
                                  subpixels: Int, label: String) throws -> ApertureSum {
        var result = ApertureSum(sum: 0, error: 0, area: 0, flag: 0)
        if try !succeeded(sep_sum_circle(&image, x, y, radius, 0, Int32(subpixels), 0,
                                         &result.sum, &result.error, &result.area, &result.flag),
                          "\(label): sep_sum_circle r=\(radius) at (\(x), \(y))") {
            result = .failed
        }
        return result
    }

    /// True on success, false when SEP rejected this object's aperture; throws otherwise.
    private static func succeeded(_ status: Int32, _ context: @autoclosure () -> String) throws -> Bool {
        if status == 0 { return true }
        if perObjectStatuses.contains(status) {
            _ = SEPError(status: status, context: "")  // consume this thread's error detail
            return false
        }
        try check(status, context())
        return true
    }
}
