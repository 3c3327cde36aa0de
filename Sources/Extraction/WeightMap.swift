import CSEP

/// A weight map turned into what SEP uses, as SExtractor's weight.c and back.c do:
/// bad pixels (beyond WEIGHT_THRESH, or NaN) join the mask; MAP_RMS is an absolute rms;
/// MAP_VAR and MAP_WEIGHT (variance = 1/weight) are relative and scaled by the median, over
/// the background meshes, of image rms / sqrt(map's background), so the noise is the image's.
enum WeightMap {
    /// The pixels the weight map makes bad, added to the image's own mask.
    static func masking(_ image: SkyImage, _ options: WeightOptions) -> SkyImage {
        guard options.kind.needsImage, let map = image.weightMap else { return image }
        var bad = [Bool](repeating: false, count: map.count)
        var any = false
        for index in map.indices where isBad(map[index], options) {
            bad[index] = true
            any = true
        }
        guard any else { return image }
        if let mask = image.mask {
            for index in bad.indices where !bad[index] && mask.isBad(index) { bad[index] = true }
        }
        return image.withMask(.booleans(bad))
    }

    /// SExtractor's default WEIGHT_THRESH: weights <= 0 are bad; variances and rms have no limit.
    static func isBad(_ value: Float, _ options: WeightOptions) -> Bool {
        if !value.isFinite { return true }
        switch options.kind {
        case .mapWeight: return Double(value) <= (options.threshold ?? 0)
        case .mapRMS, .mapVariance: return options.threshold.map { Double(value) >= $0 } ?? false
        case .background: return false
        }
    }

    /// The per-pixel standard deviations SEP sees (0 on bad pixels, which SEP never reads).
    static func noise(for image: SkyImage, _ options: WeightOptions, background: SEPBackground,
                      rmsMap: [Float]?, parameters: ExtractionParameters.Background,
                      library: SEPLibrary) throws -> [Float] {
        if options.kind == .background {
            guard let rmsMap else { preconditionFailure("BACKGROUND weighting needs the rms map") }
            return rmsMap
        }
        guard let map = image.weightMap else {
            throw ExtractionError.invalidParameter("\(image.label): WEIGHT_TYPE \(options.kind.rawValue) but no weight map was given")
        }
        var variance = [Float](repeating: 0, count: map.count)
        for index in map.indices {
            let value = map[index]
            if image.mask?.isBad(index) == true || !value.isFinite { continue }
            switch options.kind {
            case .mapRMS: variance[index] = value * value
            case .mapVariance: variance[index] = value
            case .mapWeight: variance[index] = value > 0 ? 1 / value : 0
            case .background: break
            }
        }
        let scale = options.kind == .mapRMS ? Float(1)
            : try scaleFactor(variance: variance, image: image, background: background,
                              parameters: parameters, library: library)
        return variance.map { $0 > 0 ? $0.squareRoot() * scale : 0 }
    }

    /// back.c's sigfac: the median over meshes of image sigma / sqrt(the variance map's background).
    private static func scaleFactor(variance: [Float], image: SkyImage, background: SEPBackground,
                                    parameters: ExtractionParameters.Background, library: SEPLibrary) throws -> Float {
        let varianceImage = try SkyImage(width: image.width, height: image.height, pixels: variance,
                                         mask: image.mask, label: "\(image.label) (weight map)")
        let mapBackground = try SEPBackground(image: varianceImage, parameters: parameters, library: library)
        let meshes = Int(background.pointer.pointee.n)
        guard meshes == Int(mapBackground.pointer.pointee.n) else { return 1 }
        var ratios: [Float] = []
        for mesh in 0..<meshes {
            let level = mapBackground.pointer.pointee.back[mesh]
            let sigma = background.pointer.pointee.sigma[mesh]
            if level > 0, sigma / level.squareRoot() > 0 { ratios.append(sigma / level.squareRoot()) }
        }
        guard !ratios.isEmpty else { return 1 }
        ratios.sort()
        let n = ratios.count
        return n % 2 == 1 ? ratios[n / 2] : (ratios[n / 2 - 1] + ratios[n / 2]) / 2
    }
}
