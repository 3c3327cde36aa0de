/// One detected source: SEP's raw object, its photometry, and SExtractor-named views.
public struct Source: Equatable, Sendable {
    /// 1-based running number (SExtractor's NUMBER).
    public var number: Int
    /// Exactly what sep_extract returned (0-based, theta in radians).
    public var object: SEPObject
    /// Exactly what the photometry calls returned (0-based windowed positions).
    public var photometry: SourcePhotometry
    /// Equatorial J2000 positions, set when the image has a celestial WCS.
    public var world: WorldPosition?
    /// VIGNET: background-subtracted pixels around the object, row by row (when asked for).
    public var vignet: [Float] = []
    /// The background map at the object's pixel (when BACKGROUND is asked for).
    public var localBackground: Double?
    /// SExtractor's FLAGS (see `SExtractorFlags`; SEP's bits are `sepFlags`).
    public var sextractorFlags = 0
    /// FLUX_WIN, FLUXERR_WIN, FLAGS_WIN (when asked for).
    public var windowedFlux: WindowedFlux?
    /// IMAFLAGS_ISO and NIMAFLAGS_ISO (when there is a flag image).
    public var imageFlags: ImageFlags?

    public init(number: Int, object: SEPObject, photometry: SourcePhotometry) {
        self.number = number
        self.object = object
        self.photometry = photometry
    }

    // SExtractor conventions: pixel centers at integer 1-based coordinates.
    public var xImage: Double { object.x + 1 }
    public var yImage: Double { object.y + 1 }
    public var xWindowed: Double { photometry.xWindowed + 1 }
    public var yWindowed: Double { photometry.yWindowed + 1 }
    /// Degrees counter-clockwise from +x, in (-90, 90], as SExtractor's THETA_IMAGE.
    /// Multiplied by 180/π as numpy.degrees does, so catalogs compare exactly with Python.
    public var thetaDegrees: Double { Double(object.theta) * (180 / Double.pi) }
    /// SEP's extraction flags OR'ed with every photometry flag (SEP's bit meanings): SEP_FLAGS.
    public var sepFlags: Int { Int(object.flag | photometry.flags) }
}

/// The catalog of one image, plus the background SEP measured on it.
public struct Catalog: Equatable, Sendable {
    public var imageWidth: Int
    public var imageHeight: Int
    public var apertureRadii: [Double]
    public var backgroundLevel: Float
    public var backgroundRMS: Float
    public var sources: [Source]
    /// The columns to write (the default ones unless chosen).
    public var selection = ColumnSelection.standard
    /// True once sky positions were set: the sky columns are then written.
    public var hasWorldPositions = false
    public var magnitudeZeroPoint = 0.0
    public var gain: Double?
    /// What had to give while extracting (an overflow SExtractor would flag), for the header.
    public var notes: [String] = []

    public init(imageWidth: Int, imageHeight: Int, apertureRadii: [Double], backgroundLevel: Float,
                backgroundRMS: Float, sources: [Source]) {
        self.imageWidth = imageWidth
        self.imageHeight = imageHeight
        self.apertureRadii = apertureRadii
        self.backgroundLevel = backgroundLevel
        self.backgroundRMS = backgroundRMS
        self.sources = sources
    }

    public var count: Int { sources.count }

    /// The columns in SExtractor's names and units, in the order they should be written.
    /// The selection was validated when the catalog was made, so it resolves here.
    public var columns: [CatalogColumn] {
        let resolved = (try? selection.resolve(apertureCount: apertureRadii.count, hasSky: hasWorldPositions)) ?? []
        return resolved.map { CatalogColumn(description: $0.description, values: $0.values(self)) }
    }

    /// The default column descriptions alone (name, unit, description, kind), without sky columns.
    public static func columnDescriptions(apertureCount: Int) -> [ColumnDescription] {
        ((try? ColumnSelection.standard.resolve(apertureCount: apertureCount, hasSky: false)) ?? []).map(\.description)
    }

    /// Sets ALPHA/DELTA_J2000 (from X/Y_IMAGE) and ALPHAWIN/DELTAWIN_J2000 (from X/YWIN_IMAGE)
    /// with `convert`, which maps 1-based FITS pixel coordinates to (alpha, delta) in degrees.
    public mutating func setWorldPositions(_ convert: (_ x: [Double], _ y: [Double]) -> [(Double, Double)]) {
        let barycenters = convert(sources.map(\.xImage), sources.map(\.yImage))
        let windowed = convert(sources.map(\.xWindowed), sources.map(\.yWindowed))
        for index in sources.indices {
            sources[index].world = WorldPosition(alpha: barycenters[index].0, delta: barycenters[index].1,
                                                 alphaWindowed: windowed[index].0, deltaWindowed: windowed[index].1)
        }
        hasWorldPositions = true
    }
}

/// A source's sky position in degrees, equatorial J2000.
public struct WorldPosition: Equatable, Sendable {
    public var alpha: Double
    public var delta: Double
    public var alphaWindowed: Double
    public var deltaWindowed: Double
}

public struct ColumnDescription: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case integer
        case real
        /// A fixed-length vector of reals per row (FLUX_APER: one per aperture).
        case realVector(length: Int)
    }

    public var name: String
    public var unit: String
    public var description: String
    public var kind: Kind
    /// The shape of a vector cell when it is an image (VIGNET: width, height), for TDIM.
    public var dimensions: [Int]?

    public init(name: String, unit: String, description: String, kind: Kind, dimensions: [Int]? = nil) {
        self.name = name
        self.unit = unit
        self.description = description
        self.kind = kind
        self.dimensions = dimensions
    }
}

public struct CatalogColumn: Equatable, Sendable {
    public enum Values: Equatable, Sendable {
        case integers([Int])
        case reals([Double])
        /// Row-major: row i's vector is `values[i*length ..< (i+1)*length]`.
        case realVectors([Double], length: Int)
    }

    public var description: ColumnDescription
    public var values: Values
}
