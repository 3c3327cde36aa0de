/// Background, detection and photometry of one image with fixed parameters.
///
/// An `Extractor` is a value: share one across threads freely. Every SEP call goes through
/// `library` (normally `SEPLibrary.shared`), which decides what may run concurrently.
public struct Extractor: Sendable {
    public let parameters: ExtractionParameters
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

    /// The catalog and the full background model (level, rms and both maps).
    public func extractWithBackground(_ image: SkyImage) throws -> (catalog: Catalog, background: BackgroundEstimate) {
        try run(image, keepMaps: true, selection: .standard)
    }

    /// The background model alone (level, rms and, when asked, the two maps).
    public func measureBackground(_ image: SkyImage, maps: Bool = true) throws -> BackgroundEstimate {
        try requireUsablePixels(image)
        let model = try SEPBackground(image: image, parameters: parameters.background, library: library)
        return BackgroundEstimate(level: model.level, rms: model.rms, width: image.width, height: image.height,
                                  map: maps ? try model.backgroundMap(library: library) : nil,
                                  rmsMap: maps ? try model.rmsMap(library: library) : nil)
    }

    private func run(_ image: SkyImage, keepMaps: Bool,
                     selection: ColumnSelection) throws -> (catalog: Catalog, background: BackgroundEstimate) {
        let plan = try selection.plan(apertureCount: parameters.apertureRadii.count)
        try requireUsablePixels(image)
        let model = try SEPBackground(image: image, parameters: parameters.background, library: library)
        var subtracted = try model.subtracted(from: image.pixels, library: library)
        if let mask = image.mask { zeroMaskedPixels(&subtracted, mask) }
        let rmsMap = (keepMaps || parameters.noise == .rmsMap) ? try model.rmsMap(library: library) : nil
        let noise: NoiseInput
        switch parameters.noise {
        case .globalRMS: noise = .scalar(Double(model.rms))
        case .rmsMap: noise = .map(rmsMap!)
        }

        let objects = try Detection.run(data: subtracted, image: image, noise: noise,
                                        parameters: parameters, library: library)
        let photometry = try Photometry.measure(objects: objects, data: subtracted, image: image, noise: noise,
                                                parameters: parameters, plan: plan, library: library)
        var sources = zip(objects, photometry).enumerated().map { index, pair in
            Source(number: index + 1, object: pair.0, photometry: pair.1)
        }
        let backgroundMap = (keepMaps || plan.localBackground) ? try model.backgroundMap(library: library) : nil
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
        let background = BackgroundEstimate(level: model.level, rms: model.rms,
                                            width: image.width, height: image.height,
                                            map: keepMaps ? backgroundMap : nil,
                                            rmsMap: keepMaps ? rmsMap : nil)
        return (catalog, background)
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
