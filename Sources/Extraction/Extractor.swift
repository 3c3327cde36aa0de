/// Background, detection and photometry of one image with fixed parameters.
///
/// An `Extractor` is a value: share one across threads freely. Every SEP call goes through
/// `library` (normally `SEPLibrary.shared`), which decides what may run concurrently.
public struct Extractor: Sendable {
    public private(set) var parameters: ExtractionParameters
    public let library: SEPLibrary

    /// Throws `ExtractionError.invalidParameter` when SEP would reject a parameter.
    public init(parameters: ExtractionParameters = ExtractionParameters(),
                library: SEPLibrary = .shared) throws {
        try parameters.validate()
        self.parameters = parameters
        self.library = library
    }

    /// The catalog of `image`.
    ///
    /// - An image with usable pixels but nothing above the threshold gives an empty catalog.
    /// - An image whose every pixel is masked, NaN or blank throws `.noUsablePixels`:
    ///   no background can be measured, so "no sources" would not be an honest answer.
    /// - A zero-size image cannot be built (`SkyImage.init` throws `.invalidImage`).
    public func extract(_ image: SkyImage) throws -> Catalog {
        try run(image, keepMaps: false, selection: parameters.columns).catalog
    }

    /// The catalog of `image` with the chosen columns: only what they need is measured
    /// (positions and FLUX_APER never pay for Kron, AUTO, FLUX_RADIUS or windowed positions).
    /// Throws `.invalidParameter` for an unknown column or a size that does not fit.
    public func extract(_ image: SkyImage, columns selection: ColumnSelection) throws -> Catalog {
        try run(image, keepMaps: false, selection: selection).catalog
    }

    /// The catalog and the check images asked for (CHECKIMAGE_TYPE), in the order asked.
    public func extract(_ image: SkyImage, checkImages: [CheckImageType]) throws -> (catalog: Catalog, checkImages: [CheckImage]) {
        let products = try run(image, keepMaps: false, selection: parameters.columns, checks: checkImages)
        return (products.catalog, products.checkImages)
    }

    /// The catalog and the full background model (level, rms and both maps).
    public func extractWithBackground(_ image: SkyImage) throws -> (catalog: Catalog, background: BackgroundEstimate) {
        let products = try run(image, keepMaps: true, selection: .standard)
        return (products.catalog, products.background)
    }

    /// This extractor with one image's own gain (GAIN_KEY) and saturation level (SATUR_KEY).
    public func calibrated(gain: Double?, saturationLevel: Double) -> Extractor {
        var copy = self
        copy.parameters.gain = gain.flatMap { $0 > 0 && $0.isFinite ? $0 : nil }
        copy.parameters.saturationLevel = saturationLevel
        return copy
    }

    /// The background model alone (level, rms and, when asked, the two maps).
    public func measureBackground(_ image: SkyImage, maps: Bool = true) throws -> BackgroundEstimate {
        let image = parameters.weight.map { WeightMap.masking(image, $0) } ?? image
        try requireUsablePixels(image)
        let model = try SEPBackground(image: image, parameters: parameters.background, library: library)
        return BackgroundEstimate(level: model.level, rms: model.rms, width: image.width, height: image.height,
                                  map: maps ? try model.backgroundMap(library: library) : nil,
                                  rmsMap: maps ? try model.rmsMap(library: library) : nil)
    }

    private struct Products {
        var catalog: Catalog
        var background: BackgroundEstimate
        var checkImages: [CheckImage]
    }

    private func run(_ input: SkyImage, keepMaps: Bool, selection: ColumnSelection,
                     checks: [CheckImageType] = []) throws -> Products {
        let plan = try selection.plan(apertureCount: parameters.apertureRadii.count)
        // Weights beyond WEIGHT_THRESH are bad pixels everywhere, the background included.
        let image = parameters.weight.map { WeightMap.masking(input, $0) } ?? input
        try requireUsablePixels(image)
        let model = try SEPBackground(image: image, parameters: parameters.background, library: library)
        var subtracted = try model.subtracted(from: image.pixels, library: library)
        if let mask = image.mask { zeroMaskedPixels(&subtracted, mask) }
        let wantsRMS = keepMaps || parameters.noise == .rmsMap || parameters.weight?.kind == .background
            || CheckImageMaker.needsRMSMap(checks)
        let rmsMap = wantsRMS ? try model.rmsMap(library: library) : nil
        let noise: NoiseInput
        if let weight = parameters.weight {
            noise = .map(try WeightMap.noise(for: image, weight, background: model, rmsMap: rmsMap,
                                             parameters: parameters.background, library: library))
        } else {
            switch parameters.noise {
            case .globalRMS: noise = .scalar(Double(model.rms))
            case .rmsMap: noise = .map(rmsMap!)
            }
        }
        let backgroundVariance = Double(model.rms) * Double(model.rms)
        let objectGain = weightedGain(noise: noise, width: image.width, height: image.height,
                                      backgroundVariance: backgroundVariance)

        let detection = try Detection.run(data: subtracted, image: image, noise: noise,
                                          parameters: parameters, library: library)
        let objects = detection.objects
        let photometry = try Photometry.measure(objects: objects, data: subtracted, image: image, noise: noise,
                                                parameters: parameters, plan: plan, objectGain: objectGain,
                                                library: library)
        var sources = zip(objects, photometry).enumerated().map { index, pair in
            Source(number: index + 1, object: pair.0, photometry: pair.1)
        }
        let crowding = plan.sextractorFlags && plan.auto
        // A full map only for a check image that shows it; FLAGS bit 1 reads a sparse one.
        let segmentation = CheckImageMaker.needsSegmentation(checks)
            ? detection.pixels.segmentation(pixelCount: image.pixels.count) : nil
        let windowPixels = WindowedFlux.Pixels(
            data: subtracted, mask: image.mask, width: image.width, height: image.height, noise: noise,
            inverseGain: (parameters.gain ?? 0) > 0 ? 1 / parameters.gain! : 0,
            gainScalesWithWeight: parameters.weight?.scalesGain ?? false, backgroundVariance: backgroundVariance)
        let neighbourhood = crowding ? SExtractorFlags.Neighbourhood(
            pixels: detection.pixels, image: image, deblended: { objects[$0].flag & SExtractorFlags.sepMerged != 0 }) : nil
        let globalRMS = model.rms
        for index in sources.indices {
            let object = sources[index].object
            let crowded = neighbourhood.map { SExtractorFlags.isCrowded(
                object, number: Int32(index + 1), photometry: sources[index].photometry, parameters: parameters,
                segmentation: $0, image: image) } ?? false
            sources[index].sextractorFlags = detection.sharedFlags | SExtractorFlags.flags(
                of: object, photometry: sources[index].photometry,
                backgroundAtCentroid: model.value(x: Int(object.x + 0.5), y: Int(object.y + 0.5)),
                saturationLevel: parameters.saturationLevel, crowded: crowded)
            if plan.fwhm || FWHMEstimate.isSeeingStar(object, flags: sources[index].sextractorFlags, backgroundRMS: globalRMS) {
                sources[index].object.fwhm = subtracted.withUnsafeBufferPointer {
                    FWHMEstimate.fwhm(of: object, pixels: detection.pixels.of(index), data: $0, width: image.width)
                }
            }
            if plan.windowedFlux {
                let measured = sources[index].photometry
                sources[index].windowedFlux = WindowedFlux.measure(
                    windowPixels, x: measured.xWindowed, y: measured.yWindowed,
                    sigma: Photometry.windowSigma(fluxRadius: measured.fluxRadius), object: object)
            }
            if plan.imageFlags {
                let values = image.flagMap.map { map in detection.pixels.of(index).lazy.map { map[Int($0)] } }
                sources[index].imageFlags = values.map { ImageFlags.combine($0, parameters.flagImage?.combination ?? .or) }
                    ?? ImageFlags(value: 0, count: 0)
            }
        }
        let backgroundMap = (keepMaps || plan.localBackground || CheckImageMaker.needsBackgroundMap(checks))
            ? try model.backgroundMap(library: library) : nil
        if plan.localBackground, let backgroundMap {
            for index in sources.indices {
                sources[index].localBackground = Cutout.value(backgroundMap, width: image.width, height: image.height,
                                                              x: sources[index].object.x, y: sources[index].object.y)
            }
        }
        if let size = plan.vignet {
            for index in sources.indices {
                sources[index].vignet = Cutout.stamp(subtracted, mask: image.mask, width: image.width, height: image.height,
                                                     x: sources[index].object.x, y: sources[index].object.y,
                                                     stampWidth: size.width, stampHeight: size.height)
            }
        }
        var catalog = Catalog(imageWidth: image.width, imageHeight: image.height,
                              apertureRadii: parameters.apertureRadii,
                              backgroundLevel: model.level, backgroundRMS: model.rms, sources: sources)
        catalog.selection = selection
        catalog.magnitudeZeroPoint = parameters.magnitudeZeroPoint
        catalog.gain = parameters.gain
        catalog.notes = detection.notes
        let background = BackgroundEstimate(level: model.level, rms: model.rms,
                                            width: image.width, height: image.height,
                                            map: keepMaps ? backgroundMap : nil,
                                            rmsMap: keepMaps ? rmsMap : nil)
        let checkImages = checks.isEmpty ? [] : CheckImageMaker.make(checks, CheckImageInputs(
            image: image, subtracted: subtracted, background: backgroundMap, rms: rmsMap,
            segmentation: segmentation, catalog: catalog, parameters: parameters, plan: plan))
        return Products(catalog: catalog, background: background, checkImages: checkImages)
    }

    /// WEIGHT_GAIN: SExtractor scales the gain by the background variance over the pixel's; SEP
    /// takes one gain per call, so each object gets the gain of the pixel at its centroid.
    private func weightedGain(noise: NoiseInput, width: Int, height: Int,
                              backgroundVariance: Double) -> ((SEPObject) -> Double)? {
        guard let weight = parameters.weight, weight.scalesGain, let gain = parameters.gain, gain > 0,
              case .map = noise else { return nil }
        return { object in
            guard object.x.isFinite, object.y.isFinite else { return gain }
            let column = min(max(Int(object.x.rounded()), 0), width - 1)
            let row = min(max(Int(object.y.rounded()), 0), height - 1)
            let variance = noise.variance(at: row * width + column)
            return variance > 0 ? gain * backgroundVariance / variance : gain
        }
    }

    /// SEP 1.2.1's sep_extract zeroes masked pixels line by line as it reads them, but the
    /// first kernel-height/2 lines are read before that happens when a filter is on, so
    /// masked pixels in the top rows can be detected. SEP would zero them anyway and the
    /// photometry calls never read masked values, so zeroing them here changes nothing but that.
    private func zeroMaskedPixels(_ pixels: inout [Float], _ mask: SkyImage.Mask) {
        pixels.withUnsafeMutableBufferPointer { pixels in
            switch mask {
            case .booleans(let flags):
                for index in pixels.indices where flags[index] { pixels[index] = 0 }
            case .bytes(let flags):
                for index in pixels.indices where flags[index] != 0 { pixels[index] = 0 }
            }
        }
    }

    /// Stops at the first usable pixel, so a normal image costs next to nothing.
    private func requireUsablePixels(_ image: SkyImage) throws {
        let found = image.pixels.withUnsafeBufferPointer { pixels -> Bool in
            for index in pixels.indices {
                let value = pixels[index]
                if value.isNaN || value <= -1e30 { continue }
                if let mask = image.mask, mask.isBad(index) { continue }
                return true
            }
            return false
        }
        if !found { throw ExtractionError.noUsablePixels(image.label) }
    }
}
