import Foundation

/// A SExtractor .sex configuration file mapped onto `ExtractionParameters`.
///
/// Mapped keys: DETECT_THRESH, THRESH_TYPE, DETECT_MINAREA, FILTER, FILTER_NAME,
/// DEBLEND_NTHRESH, DEBLEND_MINCONT, CLEAN, CLEAN_PARAM, BACK_SIZE, BACK_FILTERSIZE,
/// BACK_FILTTHRESH, PHOT_APERTURES, PHOT_AUTOPARAMS, GAIN, MAG_ZEROPOINT, PARAMETERS_NAME
/// (its .param file, resolved like FILTER_NAME, chooses the columns), SATUR_LEVEL, SATUR_KEY,
/// GAIN_KEY, WEIGHT_TYPE, WEIGHT_IMAGE, WEIGHT_GAIN, WEIGHT_THRESH, FLAG_IMAGE, FLAG_TYPE,
/// CHECKIMAGE_TYPE and CHECKIMAGE_NAME (WEIGHT_IMAGE, FLAG_IMAGE and CHECKIMAGE_NAME are kept as
/// written: the pipeline resolves them per input). Every other key is ignored and listed in `warnings`.
///
/// PHOT_APERTURES are *diameters* in SExtractor; they become radii (diameter / 2) here.
/// FILTER_NAME is resolved relative to the .sex file's directory.
public struct SExtractorConfiguration: Sendable {
    public var parameters: ExtractionParameters
    /// The columns PARAMETERS_NAME names (its .param file), nil when the key is absent.
    public var columns: ColumnSelection?
    /// Keys that were not mapped, and anything else worth telling the user.
    public var warnings: [String]

    /// Reads a .sex file; values it does not set keep `base`'s values.
    public static func load(contentsOf url: URL,
                            base: ExtractionParameters = ExtractionParameters()) throws -> SExtractorConfiguration {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw ExtractionError.invalidParameter("cannot read \(url.path): \(error.localizedDescription)")
        }
        return try parse(text, source: url.path, directory: url.deletingLastPathComponent(), base: base)
    }

    /// Parses .sex text. `directory` resolves a relative FILTER_NAME.
    public static func parse(_ text: String, source: String = ".sex", directory: URL,
                             base: ExtractionParameters = ExtractionParameters()) throws -> SExtractorConfiguration {
        var parser = Parser(source: source, directory: directory, parameters: base)
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
                .first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
            guard !line.isEmpty else { continue }
            let parts = line.split(maxSplits: 1, whereSeparator: { $0 == " " || $0 == "\t" })
            let key = String(parts[0]).uppercased()
            let value = parts.count > 1 ? String(parts[1]).trimmingCharacters(in: .whitespaces) : ""
            try parser.apply(key: key, value: value, line: index + 1)
        }
        try parser.finish()
        return SExtractorConfiguration(parameters: parser.parameters, columns: parser.columns, warnings: parser.warnings)
    }
}

private struct Parser {
    let source: String
    let directory: URL
    var parameters: ExtractionParameters
    var warnings: [String] = []
    var filterEnabled: Bool?
    var filterName: String?
    var thresholdLine = 0
    var columns: ColumnSelection?
    var weightKind: WeightOptions.Kind?
    var weightNone = false
    var weightImage: String?
    var weightGain: Bool?
    var weightThreshold: Double?
    var flagImage: String?
    var flagType: FlagImageOptions.Combination?
    var checkTypes: [CheckImageType?] = []
    var checkNames: [String] = []

    init(source: String, directory: URL, parameters: ExtractionParameters) {
        self.source = source
        self.directory = directory
        self.parameters = parameters
    }

    mutating func apply(key: String, value: String, line: Int) throws {
        let where_ = "\(source): line \(line): \(key)"
        let numbers = { () throws -> [Double] in
            let fields = value.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" })
            guard !fields.isEmpty else { throw ExtractionError.invalidParameter("\(where_) has no value") }
            return try fields.map { field in
                guard let number = Double(field) else {
                    throw ExtractionError.invalidParameter("\(where_): \"\(field)\" is not a number")
                }
                return number
            }
        }
        let integer = { () throws -> Int in
            let first = try numbers()[0]
            guard first == first.rounded(), abs(first) < 1e9 else {
                throw ExtractionError.invalidParameter("\(where_): \"\(value)\" is not an integer")
            }
            return Int(first)
        }
        let flag = { () throws -> Bool in
            switch value.uppercased() {
            case "Y", "YES", "T", "TRUE", "1": return true
            case "N", "NO", "F", "FALSE", "0": return false
            default: throw ExtractionError.invalidParameter("\(where_): \"\(value)\" is not Y or N")
            }
        }

        switch key {
        case "DETECT_THRESH":
            let values = try numbers()
            parameters.threshold = values[0]
            if values.count > 1 {
                warnings.append("\(where_): the <threshold>,<ZP> surface-brightness form is not supported; used \(values[0])")
            }
        case "THRESH_TYPE":
            switch value.uppercased() {
            case "RELATIVE": parameters.thresholdKind = .relative
            case "ABSOLUTE": parameters.thresholdKind = .absolute
            default: throw ExtractionError.invalidParameter("\(where_): \"\(value)\" is not RELATIVE or ABSOLUTE")
            }
        case "DETECT_MINAREA": parameters.minimumArea = try integer()
        case "FILTER": filterEnabled = try flag()
        case "FILTER_NAME": filterName = value
        case "DEBLEND_NTHRESH": parameters.deblendThresholds = try integer()
        case "DEBLEND_MINCONT": parameters.deblendContrast = try numbers()[0]
        case "CLEAN": parameters.clean = try flag()
        case "CLEAN_PARAM": parameters.cleanParameter = try numbers()[0]
        case "BACK_SIZE":
            let size = try numbers().map { Int($0) }
            parameters.background.boxWidth = size[0]
            parameters.background.boxHeight = size.count > 1 ? size[1] : size[0]
        case "BACK_FILTERSIZE":
            let size = try numbers().map { Int($0) }
            parameters.background.filterWidth = size[0]
            parameters.background.filterHeight = size.count > 1 ? size[1] : size[0]
        case "BACK_FILTTHRESH": parameters.background.filterThreshold = try numbers()[0]
        case "PHOT_APERTURES":
            // SExtractor gives diameters; SEP wants radii.
            parameters.apertureRadii = try numbers().map { $0 / 2 }
        case "PHOT_AUTOPARAMS":
            let values = try numbers()
            parameters.kronFactor = values[0]
            if values.count > 1 { parameters.kronMinimumRadius = values[1] }
        case "MAG_ZEROPOINT": parameters.magnitudeZeroPoint = try numbers()[0]
        case "PARAMETERS_NAME":
            let url = value.hasPrefix("/") ? URL(fileURLWithPath: value) : directory.appendingPathComponent(value)
            columns = try ColumnSelection.load(paramFile: url)
        case "GAIN":
            let gain = try numbers()[0]
            parameters.gain = gain > 0 ? gain : nil
        case "SATUR_LEVEL": parameters.saturationLevel = try numbers()[0]
        case "SATUR_KEY": parameters.saturationKeyword = keyword(value)
        case "GAIN_KEY": parameters.gainKeyword = keyword(value)
        case "WEIGHT_TYPE":
            let words = list(value).map { $0.uppercased() }
            if words.count > 1, words[1] != words[0] {
                warnings.append("\(where_): separate detection and measurement weights are not supported; used \(words[0])")
            }
            switch words.first ?? "" {
            case "NONE": weightKind = nil; weightNone = true
            case let word:
                guard let kind = WeightOptions.Kind(rawValue: word) else {
                    throw ExtractionError.invalidParameter(
                        "\(where_): \"\(value)\" is not NONE, BACKGROUND, MAP_RMS, MAP_VAR or MAP_WEIGHT")
                }
                weightKind = kind
            }
        case "WEIGHT_IMAGE": weightImage = list(value).first
        case "WEIGHT_GAIN": weightGain = try flag()
        case "WEIGHT_THRESH": weightThreshold = try numbers()[0]
        case "FLAG_IMAGE": flagImage = list(value).first
        case "FLAG_TYPE":
            guard let type = FlagImageOptions.Combination(rawValue: value.uppercased()) else {
                throw ExtractionError.invalidParameter("\(where_): \"\(value)\" is not OR, AND, MIN, MAX or MOST")
            }
            flagType = type
        case "CHECKIMAGE_TYPE":
            // SExtractor has more types (FILTERED, MINIBACKGROUND ...): those are skipped with a warning.
            checkTypes = list(value).map { word -> CheckImageType? in
                if word.uppercased() == "NONE" { return nil }
                do { return try CheckImageType(parsing: word) } catch {
                    warnings.append("\(where_): \(error) (skipped)")
                    return nil
                }
            }
        case "CHECKIMAGE_NAME": checkNames = list(value)
        default:
            warnings.append("\(source): \(key) is not used by Sextant (ignored)")
        }
    }

    /// Comma- or space-separated words.
    private func list(_ value: String) -> [String] {
        value.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }).map(String.init)
    }

    /// A header keyword, or none for an empty value or NONE.
    private func keyword(_ value: String) -> String {
        let word = value.trimmingCharacters(in: .whitespaces).uppercased()
        return word == "NONE" ? "" : word
    }

    mutating func finish() throws {
        if let weightKind {
            parameters.weight = WeightOptions(kind: weightKind, image: weightImage, scalesGain: weightGain ?? true,
                                              threshold: weightThreshold)
        } else if weightNone {
            parameters.weight = nil
        } else if weightImage != nil {
            warnings.append("\(source): WEIGHT_IMAGE without WEIGHT_TYPE is not used (SExtractor's default is NONE)")
        }
        if let flagImage {
            parameters.flagImage = FlagImageOptions(image: flagImage, combination: flagType ?? .or)
        } else if let flagType {
            parameters.flagImage?.combination = flagType
        }
        // SExtractor pairs the names with the types; a missing name takes Sextant's default.
        let checks = checkTypes.enumerated().compactMap { index, type in
            type.map { CheckImageRequest(type: $0, name: index < checkNames.count ? checkNames[index] : nil) }
        }
        if !checks.isEmpty { parameters.checkImages = checks }
        if filterEnabled == false {
            parameters.filter = nil
        } else if let filterName, filterEnabled == true || filterEnabled == nil {
            let url = filterName.hasPrefix("/") ? URL(fileURLWithPath: filterName)
                : directory.appendingPathComponent(filterName)
            let kernel = try FilterKernel.load(contentsOf: url)
            if !kernel.normalize {
                warnings.append("\(url.path): CONV NONORM kernel; SEP normalizes every kernel by the sum of its absolute values")
            }
            parameters.filter = kernel
        }
        try parameters.validate()
    }
}
