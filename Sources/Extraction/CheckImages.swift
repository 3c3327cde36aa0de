import Foundation

/// SExtractor's check images from one extraction (check.c, readimage.c, analyse.c):
/// BACKGROUND and BACKGROUND_RMS are SEP's full-resolution maps; -BACKGROUND is the image minus
/// the background; SEGMENTATION holds each pixel's object NUMBER; OBJECTS keeps the
/// background-subtracted pixels of objects (0 elsewhere) and -OBJECTS the others (objects 0);
/// APERTURES is the background-subtracted image with the FLUX_APER circles and the FLUX_AUTO
/// ellipse drawn at 30 x the global rms (dotted when FLAGS bit 1 is set), as SExtractor draws them.
struct CheckImageInputs {
    var image: SkyImage
    var subtracted: [Float]
    var background: [Float]?
    var rms: [Float]?
    var segmentation: [Int32]?
    var catalog: Catalog
    var parameters: ExtractionParameters
    var plan: MeasurementPlan
}

enum CheckImageMaker {
    /// What each type needs beyond the catalog.
    static func needsBackgroundMap(_ types: [CheckImageType]) -> Bool { types.contains(.background) || types.contains(.minusBackground) }
    static func needsRMSMap(_ types: [CheckImageType]) -> Bool { types.contains(.backgroundRMS) }
    static func needsSegmentation(_ types: [CheckImageType]) -> Bool {
        types.contains(.segmentation) || types.contains(.objects) || types.contains(.minusObjects)
    }

    static func make(_ types: [CheckImageType], _ inputs: CheckImageInputs) -> [CheckImage] {
        let image = inputs.image
        return types.map { type in
            func float(_ pixels: [Float]) -> CheckImage {
                CheckImage(type: type, width: image.width, height: image.height, pixels: .float32(pixels))
            }
            switch type {
            case .background: return float(inputs.background!)
            case .backgroundRMS: return float(inputs.rms!)
            case .minusBackground:
                let back = inputs.background!
                return float(image.pixels.indices.map { image.pixels[$0] - back[$0] })
            case .segmentation:
                return CheckImage(type: type, width: image.width, height: image.height, pixels: .int32(inputs.segmentation!))
            case .objects:
                let segmentation = inputs.segmentation!
                return float(segmentation.indices.map { segmentation[$0] != 0 ? inputs.subtracted[$0] : 0 })
            case .minusObjects:
                let segmentation = inputs.segmentation!
                return float(segmentation.indices.map { segmentation[$0] == 0 ? inputs.subtracted[$0] : 0 })
            case .apertures:
                return float(apertures(inputs))
            }
        }
    }

    private static func apertures(_ inputs: CheckImageInputs) -> [Float] {
        var canvas = Canvas(pixels: inputs.subtracted, width: inputs.image.width, height: inputs.image.height,
                            value: 30 * inputs.catalog.backgroundRMS)
        for source in inputs.catalog.sources {
            let x = source.object.x, y = source.object.y
            if inputs.plan.apertures {
                for radius in inputs.parameters.apertureRadii { canvas.ellipse(x: x, y: y, a: radius, b: radius, theta: 0) }
            }
            guard inputs.plan.auto else { continue }
            let dotted = source.sextractorFlags & SExtractorFlags.crowded != 0
            if source.photometry.autoIsCircle {
                let r = inputs.parameters.kronMinimumRadius
                canvas.ellipse(x: x, y: y, a: r, b: r, theta: 0, dotted: dotted)
            } else {
                let scale = inputs.parameters.kronFactor * source.photometry.kronRadius
                guard scale.isFinite else { continue }
                canvas.ellipse(x: x, y: y, a: Double(source.object.a) * scale, b: Double(source.object.b) * scale,
                               theta: Double(source.object.theta), dotted: dotted)
            }
        }
        return canvas.pixels
    }
}

/// graph.c's polyline drawing: 36 segments an ellipse, every other one skipped when dotted.
private struct Canvas {
    var pixels: [Float]
    let width: Int
    let height: Int
    let value: Float

    mutating func ellipse(x: Double, y: Double, a: Double, b: Double, theta: Double, dotted: Bool = false) {
        let ct = cos(theta), st = sin(theta)
        func point(_ i: Int) -> (Double, Double) {
            let angle = Double(i) * 10 * .pi / 180
            return (x + a * cos(angle) * ct - b * sin(angle) * st, y + a * cos(angle) * st + b * sin(angle) * ct)
        }
        var from = point(0)
        for i in 1...36 {
            let to = point(i)
            if !(dotted && i % 2 == 0) { line(from, to) }
            from = to
        }
    }

    private mutating func line(_ from: (Double, Double), _ to: (Double, Double)) {
        let steps = max(Int(max(abs(to.0 - from.0), abs(to.1 - from.1)).rounded(.up)), 1)
        for step in 0...steps {
            let t = Double(step) / Double(steps)
            let px = Int((from.0 + (to.0 - from.0) * t).rounded()), py = Int((from.1 + (to.1 - from.1) * t).rounded())
            if px >= 0, px < width, py >= 0, py < height { pixels[py * width + px] = value }
        }
    }
}
