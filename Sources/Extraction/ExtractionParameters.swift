/// Everything that decides a catalog. Defaults equal Python sep's defaults (and SExtractor's
/// where sep has none), so `ExtractionParameters()` reproduces
/// `bkg = sep.Background(d); sep.extract(d - bkg, 1.5, err=bkg.globalrms)`.
///
/// Decoding fills any missing key with its default, so a partial JSON object is valid.
public struct ExtractionParameters: Codable, Equatable, Sendable {
    /// `sep_background` mesh: box size in pixels, median filter size in boxes, filter threshold.
    public struct Background: Codable, Equatable, Sendable {
        public var boxWidth = 64
        public var boxHeight = 64
        public var filterWidth = 3
        public var filterHeight = 3
        public var filterThreshold = 0.0

        public init() {}
    }

    /// How `threshold` is read: in units of the noise (sigmas) or in image units (ADU).
    public enum ThresholdKind: String, Codable, Sendable { case relative, absolute }

    /// The noise used for the relative threshold and the flux errors.
    /// - `globalRMS`: the background's single global rms (`err=bkg.globalrms`), the default,
    ///   as in sep's documentation and the Python reference.
    /// - `rmsMap`: the background's per-pixel rms map (`err=bkg.rms()`); better where the
    ///   noise varies across the frame, and it costs one more full-size float array.
    public enum Noise: String, Codable, Sendable { case globalRMS, rmsMap }

    /// SEP's filter treatment. They differ only when the noise is a map: `matched`
    /// then weights the kernel by the pixel noise. Default `convolution`.
    public enum FilterType: String, Codable, Sendable { case convolution, matched }

    public var background = Background()
    public var threshold = 1.5
    public var thresholdKind = ThresholdKind.relative
    public var noise = Noise.globalRMS
    public var minimumArea = 5
    /// The detection filter; nil detects on the unfiltered image.
    public var filter: FilterKernel? = .sextractorDefault
    public var filterType = FilterType.convolution
    public var deblendThresholds = 32
    public var deblendContrast = 0.005
    public var clean = true
    public var cleanParameter = 1.0
    /// Aperture radii in pixels (SExtractor's PHOT_APERTURES are diameters).
    public var apertureRadii: [Double] = [3.0]
    /// Subpixel sampling for the circular apertures (0 = exact overlap).
    public var subpixels = 5
    /// e-/ADU; nil (or 0) leaves Poisson noise out of the flux errors.
    public var gain: Double?
    /// PHOT_AUTOPARAMS: FLUX_AUTO's ellipse is `kronFactor` x the Kron radius ...
    public var kronFactor = 2.5
    /// ... unless kron radius x sqrt(a b) is below this, when a circle of this radius is used.
    public var kronMinimumRadius = 3.5
    /// Subpixel sampling for FLUX_AUTO (sep's documented recipe uses 1).
    public var autoSubpixels = 1
    /// The fraction of FLUX_AUTO that FLUX_RADIUS encloses.
    public var fluxRadiusFraction = 0.5
    /// Subpixel sampling for the windowed positions (sep.winpos's default, as SExtractor).
    public var windowedSubpixels = 11
    /// MAG_ZEROPOINT: magnitudes are this minus 2.5 log10(flux).
    public var magnitudeZeroPoint = 0.0
    /// A header keyword (e.g. MAGZPT) whose value, where an image has it, is that image's
    /// zero point instead of `magnitudeZeroPoint`.
    public var magnitudeZeroPointKeyword: String?
    /// The catalog's columns; only what they need is measured.
    public var columns = ColumnSelection.standard
    /// SATUR_LEVEL: an object whose peak pixel reaches this (in ADU, background included) has FLAGS bit 4.
    public var saturationLevel = 50000.0
    /// SATUR_KEY: the header keyword whose value, where an image has it, replaces `saturationLevel`
    /// for that image (SExtractor's default SATURATE); empty for none.
    public var saturationKeyword = "SATURATE"
    /// GAIN_KEY: the header keyword whose value, where an image has it, replaces `gain` for that
    /// image; empty (the default) keeps `gain` for every image.
    public var gainKeyword = ""
    /// WEIGHT_TYPE and friends; nil is WEIGHT_TYPE NONE.
    public var weight: WeightOptions?
    /// FLAG_IMAGE and FLAG_TYPE; nil when there is no flag image.
    public var flagImage: FlagImageOptions?
    /// CHECKIMAGE_TYPE and CHECKIMAGE_NAME.
    public var checkImages: [CheckImageRequest] = []

    public init() {}

    /// Throws `ExtractionError.invalidParameter` naming the first value SEP would reject.
    public func validate() throws {
        func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
            if !condition { throw ExtractionError.invalidParameter(message()) }
        }
        try require(background.boxWidth > 0 && background.boxHeight > 0,
                    "background box size must be positive (\(background.boxWidth)x\(background.boxHeight))")
        try require(background.filterWidth > 0 && background.filterHeight > 0,
                    "background filter size must be positive (\(background.filterWidth)x\(background.filterHeight))")
        try require(threshold.isFinite, "threshold must be finite (\(threshold))")
        try require(minimumArea >= 1, "minimum area must be at least 1 pixel (\(minimumArea))")
        try require(deblendThresholds >= 1, "deblend thresholds must be at least 1 (\(deblendThresholds))")
        try require(deblendContrast >= 0 && deblendContrast <= 1,
                    "deblend contrast must be in [0, 1] (\(deblendContrast))")
        try require(!apertureRadii.isEmpty, "at least one aperture radius is needed")
        try require(apertureRadii.allSatisfy { $0 > 0 && $0.isFinite },
                    "aperture radii must be positive (\(apertureRadii))")
        try require(subpixels >= 0 && autoSubpixels >= 0 && windowedSubpixels >= 0,
                    "subpixel sampling must be 0 (exact) or positive")
        try require(kronFactor > 0 && kronMinimumRadius >= 0,
                    "Kron parameters must be positive (\(kronFactor), \(kronMinimumRadius))")
        try require(fluxRadiusFraction > 0 && fluxRadiusFraction <= 1,
                    "flux radius fraction must be in (0, 1] (\(fluxRadiusFraction))")
        if let gain { try require(gain >= 0 && gain.isFinite, "gain must be >= 0 (\(gain))") }
        try require(magnitudeZeroPoint.isFinite, "magnitude zero point must be finite (\(magnitudeZeroPoint))")
        try require(!saturationLevel.isNaN, "saturation level must be a number (\(saturationLevel))")
        if let weight {
            try require(!weight.kind.needsImage || !(weight.image ?? "").isEmpty,
                        "WEIGHT_TYPE \(weight.kind.rawValue) needs a WEIGHT_IMAGE")
            if let threshold = weight.threshold { try require(!threshold.isNaN, "WEIGHT_THRESH must be a number") }
        }
        if let flagImage { try require(!flagImage.image.isEmpty, "FLAG_IMAGE must name an image") }
        try require(Set(checkImages.map(\.type)).count == checkImages.count, "a check image type is asked for twice")
        try columns.validate(apertureCount: apertureRadii.count)
    }

    // MARK: Codable with defaults for missing keys

    enum CodingKeys: String, CodingKey {
        case background, threshold, thresholdKind, noise, minimumArea, filter, filterType
        case deblendThresholds, deblendContrast, clean, cleanParameter, apertureRadii, subpixels
        case gain, kronFactor, kronMinimumRadius, autoSubpixels, fluxRadiusFraction, windowedSubpixels
        case magnitudeZeroPoint, magnitudeZeroPointKeyword, columns
        case saturationLevel, saturationKeyword, gainKeyword, weight, flagImage, checkImages
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ExtractionParameters()
        background = try c.decodeIfPresent(Background.self, forKey: .background) ?? d.background
        threshold = try c.decodeIfPresent(Double.self, forKey: .threshold) ?? d.threshold
        thresholdKind = try c.decodeIfPresent(ThresholdKind.self, forKey: .thresholdKind) ?? d.thresholdKind
        noise = try c.decodeIfPresent(Noise.self, forKey: .noise) ?? d.noise
        minimumArea = try c.decodeIfPresent(Int.self, forKey: .minimumArea) ?? d.minimumArea
        // An explicit null means "no filter"; a missing key means the default kernel.
        if c.contains(.filter) {
            filter = try c.decodeNil(forKey: .filter) ? nil : c.decode(FilterKernel.self, forKey: .filter)
        } else {
            filter = d.filter
        }
        filterType = try c.decodeIfPresent(FilterType.self, forKey: .filterType) ?? d.filterType
        deblendThresholds = try c.decodeIfPresent(Int.self, forKey: .deblendThresholds) ?? d.deblendThresholds
        deblendContrast = try c.decodeIfPresent(Double.self, forKey: .deblendContrast) ?? d.deblendContrast
        clean = try c.decodeIfPresent(Bool.self, forKey: .clean) ?? d.clean
        cleanParameter = try c.decodeIfPresent(Double.self, forKey: .cleanParameter) ?? d.cleanParameter
        apertureRadii = try c.decodeIfPresent([Double].self, forKey: .apertureRadii) ?? d.apertureRadii
        subpixels = try c.decodeIfPresent(Int.self, forKey: .subpixels) ?? d.subpixels
        gain = try c.decodeIfPresent(Double.self, forKey: .gain)
        kronFactor = try c.decodeIfPresent(Double.self, forKey: .kronFactor) ?? d.kronFactor
        kronMinimumRadius = try c.decodeIfPresent(Double.self, forKey: .kronMinimumRadius) ?? d.kronMinimumRadius
        autoSubpixels = try c.decodeIfPresent(Int.self, forKey: .autoSubpixels) ?? d.autoSubpixels
        fluxRadiusFraction = try c.decodeIfPresent(Double.self, forKey: .fluxRadiusFraction) ?? d.fluxRadiusFraction
        windowedSubpixels = try c.decodeIfPresent(Int.self, forKey: .windowedSubpixels) ?? d.windowedSubpixels
        magnitudeZeroPoint = try c.decodeIfPresent(Double.self, forKey: .magnitudeZeroPoint) ?? d.magnitudeZeroPoint
        columns = try c.decodeIfPresent(ColumnSelection.self, forKey: .columns) ?? d.columns
        magnitudeZeroPointKeyword = try c.decodeIfPresent(String.self, forKey: .magnitudeZeroPointKeyword)
        saturationLevel = try c.decodeIfPresent(Double.self, forKey: .saturationLevel) ?? d.saturationLevel
        saturationKeyword = try c.decodeIfPresent(String.self, forKey: .saturationKeyword) ?? d.saturationKeyword
        gainKeyword = try c.decodeIfPresent(String.self, forKey: .gainKeyword) ?? d.gainKeyword
        weight = try c.decodeIfPresent(WeightOptions.self, forKey: .weight)
        flagImage = try c.decodeIfPresent(FlagImageOptions.self, forKey: .flagImage)
        checkImages = try c.decodeIfPresent([CheckImageRequest].self, forKey: .checkImages) ?? d.checkImages
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(background, forKey: .background)
        try c.encode(threshold, forKey: .threshold)
        try c.encode(thresholdKind, forKey: .thresholdKind)
        try c.encode(noise, forKey: .noise)
        try c.encode(minimumArea, forKey: .minimumArea)
        try c.encode(filter, forKey: .filter)  // encodes null for "no filter"
        try c.encode(filterType, forKey: .filterType)
        try c.encode(deblendThresholds, forKey: .deblendThresholds)
        try c.encode(deblendContrast, forKey: .deblendContrast)
        try c.encode(clean, forKey: .clean)
        try c.encode(cleanParameter, forKey: .cleanParameter)
        try c.encode(apertureRadii, forKey: .apertureRadii)
        try c.encode(subpixels, forKey: .subpixels)
        try c.encodeIfPresent(gain, forKey: .gain)
        try c.encode(kronFactor, forKey: .kronFactor)
        try c.encode(kronMinimumRadius, forKey: .kronMinimumRadius)
        try c.encode(autoSubpixels, forKey: .autoSubpixels)
        try c.encode(fluxRadiusFraction, forKey: .fluxRadiusFraction)
        try c.encode(windowedSubpixels, forKey: .windowedSubpixels)
        try c.encode(magnitudeZeroPoint, forKey: .magnitudeZeroPoint)
        if columns != .standard { try c.encode(columns, forKey: .columns) }
        try c.encodeIfPresent(magnitudeZeroPointKeyword, forKey: .magnitudeZeroPointKeyword)
        // Written only when not the default, so the recipes (and hashes) of earlier jobs stay as they were.
        let d = ExtractionParameters()
        if saturationLevel != d.saturationLevel { try c.encode(saturationLevel, forKey: .saturationLevel) }
        if saturationKeyword != d.saturationKeyword { try c.encode(saturationKeyword, forKey: .saturationKeyword) }
        if gainKeyword != d.gainKeyword { try c.encode(gainKeyword, forKey: .gainKeyword) }
        try c.encodeIfPresent(weight, forKey: .weight)
        try c.encodeIfPresent(flagImage, forKey: .flagImage)
        if !checkImages.isEmpty { try c.encode(checkImages, forKey: .checkImages) }
    }
}

extension ExtractionParameters.Background {
    enum CodingKeys: String, CodingKey {
        case boxWidth, boxHeight, filterWidth, filterHeight, filterThreshold
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        boxWidth = try c.decodeIfPresent(Int.self, forKey: .boxWidth) ?? boxWidth
        boxHeight = try c.decodeIfPresent(Int.self, forKey: .boxHeight) ?? boxHeight
        filterWidth = try c.decodeIfPresent(Int.self, forKey: .filterWidth) ?? filterWidth
        filterHeight = try c.decodeIfPresent(Int.self, forKey: .filterHeight) ?? filterHeight
        filterThreshold = try c.decodeIfPresent(Double.self, forKey: .filterThreshold) ?? filterThreshold
    }
}
