/// WEIGHT_TYPE, WEIGHT_IMAGE, WEIGHT_GAIN and WEIGHT_THRESH, as SExtractor reads them.
/// (WEIGHT_TYPE NONE is `ExtractionParameters.weight == nil`.)
public struct WeightOptions: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// The background rms map of the image itself.
        case background = "BACKGROUND"
        /// A map of absolute standard deviations (ADU), used as given.
        case mapRMS = "MAP_RMS"
        /// A map of relative variances, scaled to the image's measured noise.
        case mapVariance = "MAP_VAR"
        /// A map of relative weights (1/variance), scaled to the image's measured noise.
        case mapWeight = "MAP_WEIGHT"

        /// True when the map comes from a file (WEIGHT_IMAGE).
        public var needsImage: Bool { self != .background }
    }

    public var kind: Kind
    /// WEIGHT_IMAGE: which map goes with each input (a rule the pipeline resolves; see README).
    public var image: String?
    /// WEIGHT_GAIN: the gain varies as the weight (SExtractor's default, Y).
    public var scalesGain = true
    /// WEIGHT_THRESH in the map's own units; nil is SExtractor's default (weights <= 0, no limit otherwise).
    public var threshold: Double?

    public init(kind: Kind, image: String? = nil, scalesGain: Bool = true, threshold: Double? = nil) {
        self.kind = kind
        self.image = image
        self.scalesGain = scalesGain
        self.threshold = threshold
    }
}

/// FLAG_IMAGE and FLAG_TYPE: how the flag-image values under an object's isophotal pixels
/// combine into IMAFLAGS_ISO (NIMAFLAGS_ISO counts the pixels that entered it).
public struct FlagImageOptions: Codable, Equatable, Sendable {
    public enum Combination: String, Codable, Sendable, CaseIterable {
        case or = "OR", and = "AND", min = "MIN", max = "MAX", most = "MOST"
    }

    /// FLAG_IMAGE: which flag map goes with each input (resolved like WEIGHT_IMAGE).
    public var image: String
    public var combination = Combination.or

    public init(image: String, combination: Combination = .or) {
        self.image = image
        self.combination = combination
    }
}

/// CHECKIMAGE_TYPE: the check images Sextant can write.
public enum CheckImageType: String, Codable, Sendable, CaseIterable {
    case background = "BACKGROUND"
    case backgroundRMS = "BACKGROUND_RMS"
    case minusBackground = "-BACKGROUND"
    case segmentation = "SEGMENTATION"
    case objects = "OBJECTS"
    case minusObjects = "-OBJECTS"
    case apertures = "APERTURES"

    /// Parses a CHECKIMAGE_TYPE word (case-insensitive); the error lists the valid ones.
    public init(parsing text: String) throws {
        guard let type = CheckImageType(rawValue: text.trimmingCharacters(in: .whitespaces).uppercased()) else {
            throw ExtractionError.invalidParameter(
                "unknown check image \"\(text)\"; valid: \(CheckImageType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = type
    }

    /// The default file-name part: `background`, `minus-background`, `segmentation` ...
    public var fileTag: String {
        rawValue.hasPrefix("-") ? "minus-" + rawValue.dropFirst().lowercased() : rawValue.lowercased()
    }
}

/// One check image to write: its type and, when given (CHECKIMAGE_NAME), its name.
public struct CheckImageRequest: Codable, Equatable, Sendable {
    public var type: CheckImageType
    public var name: String?

    public init(type: CheckImageType, name: String? = nil) {
        self.type = type
        self.name = name
    }
}

/// A check image as extraction made it: row-major, the image's size.
public struct CheckImage: Sendable, Equatable {
    public enum Pixels: Sendable, Equatable {
        case float32([Float])
        /// SEGMENTATION: the NUMBER of the object owning each pixel, 0 for none.
        case int32([Int32])
    }

    public var type: CheckImageType
    public var width: Int
    public var height: Int
    public var pixels: Pixels
}
