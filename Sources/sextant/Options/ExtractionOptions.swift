import ArgumentParser
import Extraction
import Foundation
import Pipeline

/// Flags for every extraction parameter. Precedence: defaults (Python sep's), then a
/// SExtractor .sex file, then these flags.
struct ExtractionOptions: ParsableArguments {
    @Option(name: .customLong("sex-config"), help: "Read DETECT_THRESH, DETECT_MINAREA, FILTER(_NAME), DEBLEND_*, CLEAN(_PARAM), BACK_SIZE, BACK_FILTERSIZE, PHOT_APERTURES, PHOT_AUTOPARAMS, GAIN, MAG_ZEROPOINT, PARAMETERS_NAME (the columns), SATUR_*, GAIN_KEY, WEIGHT_*, FLAG_IMAGE, FLAG_TYPE and CHECKIMAGE_* from a SExtractor .sex file.")
    var sexConfig: String?

    @Option(help: "Detection threshold: in units of the noise (relative, default 1.5) or in counts with --absolute-threshold.")
    var threshold: Double?
    @Flag(help: "Take --threshold as an absolute level in counts, not in units of the noise.")
    var absoluteThreshold = false
    @Option(help: "Noise for the relative threshold and the flux errors: global-rms (default, as sep's err=bkg.globalrms) or rms-map.")
    var noise: String?
    @Option(help: "Minimum number of pixels above threshold (default 5).")
    var minarea: Int?
    @Option(help: "Detection filter: default (SExtractor's 3x3 [1 2 1; 2 4 2; 1 2 1]), none, or a SExtractor .conv file.")
    var filter: String?
    @Option(help: "Deblending sub-thresholds (default 32).")
    var deblendNthresh: Int?
    @Option(help: "Deblending minimum contrast (default 0.005).")
    var deblendCont: Double?
    @Option(help: "Clean spurious detections: true or false (default true).")
    var clean: Bool?
    @Option(help: "Cleaning parameter (default 1.0).")
    var cleanParam: Double?
    @Option(help: "Background mesh size in pixels, W or WxH (default 64).")
    var backSize: String?
    @Option(help: "Background filter size in meshes, N or WxH (default 3).")
    var backFilterSize: String?
    @Option(help: "Background filter threshold (default 0).")
    var backFilterThreshold: Double?
    @Option(help: "Aperture radii in pixels, comma separated (default 3).")
    var apertures: String?
    @Option(help: "FLUX_AUTO: Kron factor and minimum radius, e.g. 2.5,3.5 (SExtractor's PHOT_AUTOPARAMS).")
    var autoParams: String?
    @Option(help: "Gain in e-/count for Poisson terms in flux errors (default: none, background noise only).")
    var gain: Double?
    @Option(help: "Sub-pixel sampling for aperture sums (default 5; 0 = exact).")
    var subpix: Int?
    @Option(name: .customLong("param"), help: "A SExtractor .param file naming the catalog columns (overrides PARAMETERS_NAME).")
    var paramFile: String?
    @Option(help: "Catalog columns, comma separated, in SExtractor's names and sizes, e.g. NUMBER,X_IMAGE,Y_IMAGE,FLUX_APER(2) (overrides --param). Only what they need is measured.")
    var columns: String?
    @Option(help: "MAG_ZEROPOINT: magnitudes are this minus 2.5 log10(flux) (default 0).")
    var zeropoint: Double?
    @Option(help: "A header keyword (e.g. MAGZPT) holding each image's zero point; images without it use --zeropoint.")
    var zeropointKeyword: String?
    @Option(help: "Check images written beside each catalog, comma separated: BACKGROUND, BACKGROUND_RMS, -BACKGROUND, SEGMENTATION, OBJECTS, -OBJECTS, APERTURES (SExtractor's CHECKIMAGE_TYPE).")
    var checkImage: String?
    @Option(help: "SATUR_LEVEL: a peak (background included) at or above this sets FLAGS bit 4 (default 50000).")
    var saturLevel: Double?
    @Option(help: "SATUR_KEY: header keyword with each image's saturation level (default SATURATE; NONE for none).")
    var saturKey: String?
    @Option(help: "GAIN_KEY: header keyword with each image's gain, replacing --gain where present (default: none).")
    var gainKey: String?
    @Option(help: "WEIGHT_TYPE: NONE, BACKGROUND, MAP_RMS, MAP_VAR or MAP_WEIGHT.")
    var weightType: String?
    @Option(help: "WEIGHT_IMAGE: each input's weight map, e.g. '{stem}.weight.fits' beside it, or '[WEIGHT]' (an HDU of the input).")
    var weightImage: String?
    @Option(help: "FLAG_IMAGE: each input's flag map (a rule like --weight-image), for IMAFLAGS_ISO and NIMAFLAGS_ISO.")
    var flagImage: String?
    @Option(help: "FLAG_TYPE: how flag-map values combine over an object: OR (default), AND, MIN, MAX or MOST.")
    var flagType: String?

    /// The parameters these flags describe.
    func parameters() throws -> ExtractionParameters {
        var p = ExtractionParameters()
        if let sexConfig {
            let config = try SExtractorConfiguration.load(contentsOf: URL(fileURLWithPath: sexConfig))
            for warning in config.warnings { FileHandle.standardError.write(Data("sextant: \(sexConfig): \(warning)\n".utf8)) }
            p = config.parameters
            if let columns = config.columns { p.columns = columns }
        }
        if let paramFile { p.columns = try ColumnSelection.load(paramFile: URL(fileURLWithPath: paramFile)) }
        if let columns { p.columns = try ColumnSelection(list: columns) }
        if let zeropoint { p.magnitudeZeroPoint = zeropoint }
        if let zeropointKeyword { p.magnitudeZeroPointKeyword = zeropointKeyword.uppercased() }
        if let threshold { p.threshold = threshold }
        if absoluteThreshold { p.thresholdKind = .absolute }
        if let noise {
            switch noise {
            case "global-rms": p.noise = .globalRMS
            case "rms-map": p.noise = .rmsMap
            default: throw ValidationError("--noise must be global-rms or rms-map, not \(noise)")
            }
        }
        if let minarea { p.minimumArea = minarea }
        if let filter {
            switch filter {
            case "default": p.filter = .sextractorDefault
            case "none": p.filter = nil
            default: p.filter = try FilterKernel.load(contentsOf: URL(fileURLWithPath: filter))
            }
        }
        if let deblendNthresh { p.deblendThresholds = deblendNthresh }
        if let deblendCont { p.deblendContrast = deblendCont }
        if let clean { p.clean = clean }
        if let cleanParam { p.cleanParameter = cleanParam }
        if let backSize {
            (p.background.boxWidth, p.background.boxHeight) = try Self.size(backSize, flag: "--back-size")
        }
        if let backFilterSize {
            (p.background.filterWidth, p.background.filterHeight) = try Self.size(backFilterSize, flag: "--back-filter-size")
        }
        if let backFilterThreshold { p.background.filterThreshold = backFilterThreshold }
        if let apertures { p.apertureRadii = try Self.numbers(apertures, flag: "--apertures") }
        if let autoParams {
            let values = try Self.numbers(autoParams, flag: "--auto-params")
            guard values.count == 2 else { throw ValidationError("--auto-params takes two numbers: Kron factor and minimum radius") }
            (p.kronFactor, p.kronMinimumRadius) = (values[0], values[1])
        }
        if let gain { p.gain = gain }
        if let subpix { p.subpixels = subpix }
        try applySExtractorFlags(to: &p)
        try p.validate()
        return p
    }

    /// --check-image, --satur-*, --gain-key, --weight-*, --flag-*: the same keys as in a .sex file.
    private func applySExtractorFlags(to p: inout ExtractionParameters) throws {
        var lines: [String] = []
        if let checkImage { lines.append("CHECKIMAGE_TYPE \(checkImage)") }
        if let saturLevel { lines.append("SATUR_LEVEL \(saturLevel)") }
        if let saturKey { lines.append("SATUR_KEY \(saturKey)") }
        if let gainKey { lines.append("GAIN_KEY \(gainKey)") }
        if let flagImage { lines.append("FLAG_IMAGE \(flagImage)") }
        if let flagType { lines.append("FLAG_TYPE \(flagType)") }
        let weightType = self.weightType ?? p.weight?.kind.rawValue
        if let weightType {
            lines.append("WEIGHT_TYPE \(weightType)")
            if let image = weightImage ?? p.weight?.image { lines.append("WEIGHT_IMAGE \(image)") }
            if let weight = p.weight {
                lines.append("WEIGHT_GAIN \(weight.scalesGain ? "Y" : "N")")
                if let threshold = weight.threshold { lines.append("WEIGHT_THRESH \(threshold)") }
            }
        } else if weightImage != nil {
            throw ValidationError("--weight-image needs --weight-type (MAP_WEIGHT, MAP_VAR or MAP_RMS)")
        }
        guard !lines.isEmpty else { return }
        let parsed = try SExtractorConfiguration.parse(lines.joined(separator: "\n"), source: "flags",
                                                       directory: URL(fileURLWithPath: "."), base: p)
        for warning in parsed.warnings { FileHandle.standardError.write(Data("sextant: \(warning)\n".utf8)) }
        p = parsed.parameters
    }

    static func size(_ text: String, flag: String) throws -> (Int, Int) {
        let parts = text.lowercased().split(separator: "x").map { Int($0) }
        switch parts.count {
        case 1: if let n = parts[0] { return (n, n) }
        case 2: if let w = parts[0], let h = parts[1] { return (w, h) }
        default: break
        }
        throw ValidationError("\(flag) takes N or WxH, not \(text)")
    }

    static func numbers(_ text: String, flag: String) throws -> [Double] {
        let values = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil }) else {
            throw ValidationError("\(flag) takes comma-separated numbers, not \(text)")
        }
        return values.compactMap { $0 }
    }
}

/// Where catalogs go and how they are written: shared by extract, run and submit.
struct OutputOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Where catalogs go: a directory or s3://bucket/prefix.")
    var out: String
    @Option(help: "Catalog format: fits (binary table, default), ldac (FITS_LDAC for SCAMP and PSFEx) or csv.")
    var format: CatalogFormat = .fits
    @Option(help: "Image HDU: a number (0 = primary) or an EXTNAME; default: the primary, or the first image extension when the primary is empty.")
    var hdu: String = ""
}

extension CatalogFormat: ExpressibleByArgument {}
