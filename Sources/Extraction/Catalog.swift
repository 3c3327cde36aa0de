/// One detected source: SEP's raw object, its photometry, and SExtractor-named views.
public struct Source: Equatable, Sendable {
    /// 1-based running number (SExtractor's NUMBER).
    public var number: Int
    /// Exactly what sep_extract returned (0-based, theta in radians).
    public var object: SEPObject
    /// Exactly what the photometry calls returned (0-based windowed positions).
    public var photometry: SourcePhotometry

    // SExtractor conventions: pixel centers at integer 1-based coordinates.
    public var xImage: Double { object.x + 1 }
    public var yImage: Double { object.y + 1 }
    public var xWindowed: Double { photometry.xWindowed + 1 }
    public var yWindowed: Double { photometry.yWindowed + 1 }
    /// Degrees counter-clockwise from +x, in (-90, 90], as SExtractor's THETA_IMAGE.
    /// Multiplied by 180/π as numpy.degrees does, so catalogs compare exactly with Python.
    public var thetaDegrees: Double { Double(object.theta) * (180 / Double.pi) }
    /// SEP's extraction flags OR'ed with every photometry flag (SEP's bit meanings).
    public var flags: Int { Int(object.flag | photometry.flags) }
}

/// The catalog of one image, plus the background SEP measured on it.
public struct Catalog: Equatable, Sendable {
    public var imageWidth: Int
    public var imageHeight: Int
    public var apertureRadii: [Double]
    public var backgroundLevel: Float
    public var backgroundRMS: Float
    public var sources: [Source]

    public var count: Int { sources.count }

    /// The columns in SExtractor's names and units, in the order they should be written.
    public var columns: [CatalogColumn] {
        CatalogColumn.Schema.all(apertureCount: apertureRadii.count).map { schema in
            CatalogColumn(description: schema.description, values: schema.values(sources))
        }
    }

    /// The column descriptions alone (name, unit, description, kind).
    public static func columnDescriptions(apertureCount: Int) -> [ColumnDescription] {
        CatalogColumn.Schema.all(apertureCount: apertureCount).map(\.description)
    }
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

    struct Schema {
        var description: ColumnDescription
        var values: ([Source]) -> Values

        static func integer(_ name: String, _ unit: String, _ text: String,
                            _ value: @escaping (Source) -> Int) -> Schema {
            Schema(description: .init(name: name, unit: unit, description: text, kind: .integer),
                   values: { .integers($0.map(value)) })
        }

        static func real(_ name: String, _ unit: String, _ text: String,
                         _ value: @escaping (Source) -> Double) -> Schema {
            Schema(description: .init(name: name, unit: unit, description: text, kind: .real),
                   values: { .reals($0.map(value)) })
        }

        static func vector(_ name: String, _ unit: String, _ text: String, length: Int,
                           _ value: @escaping (Source) -> [Double]) -> Schema {
            Schema(description: .init(name: name, unit: unit, description: text, kind: .realVector(length: length)),
                   values: { .realVectors($0.flatMap(value), length: length) })
        }

        static func all(apertureCount n: Int) -> [Schema] {
            [
                integer("NUMBER", "", "Running object number") { $0.number },
                real("X_IMAGE", "pixel", "Object position along x (1-based)") { $0.xImage },
                real("Y_IMAGE", "pixel", "Object position along y (1-based)") { $0.yImage },
                real("X2_IMAGE", "pixel**2", "Variance along x") { $0.object.x2 },
                real("Y2_IMAGE", "pixel**2", "Variance along y") { $0.object.y2 },
                real("XY_IMAGE", "pixel**2", "Covariance between x and y") { $0.object.xy },
                real("A_IMAGE", "pixel", "Profile RMS along major axis") { Double($0.object.a) },
                real("B_IMAGE", "pixel", "Profile RMS along minor axis") { Double($0.object.b) },
                real("THETA_IMAGE", "deg", "Position angle (CCW from x)") { $0.thetaDegrees },
                real("CXX_IMAGE", "pixel**(-2)", "Cxx object ellipse parameter") { Double($0.object.cxx) },
                real("CYY_IMAGE", "pixel**(-2)", "Cyy object ellipse parameter") { Double($0.object.cyy) },
                real("CXY_IMAGE", "pixel**(-2)", "Cxy object ellipse parameter") { Double($0.object.cxy) },
                integer("ISOAREA_IMAGE", "pixel**2", "Isophotal area above analysis threshold") { Int($0.object.npix) },
                real("FLUX_ISO", "count", "Isophotal flux") { Double($0.object.flux) },
                real("FLUX_MAX", "count", "Peak flux above background") { Double($0.object.peak) },
                integer("XMIN_IMAGE", "pixel", "Minimum x-coordinate among detected pixels") { Int($0.object.xmin) + 1 },
                integer("YMIN_IMAGE", "pixel", "Minimum y-coordinate among detected pixels") { Int($0.object.ymin) + 1 },
                integer("XMAX_IMAGE", "pixel", "Maximum x-coordinate among detected pixels") { Int($0.object.xmax) + 1 },
                integer("YMAX_IMAGE", "pixel", "Maximum y-coordinate among detected pixels") { Int($0.object.ymax) + 1 },
                vector("FLUX_APER", "count", "Flux vector within fixed circular aperture(s)", length: n) {
                    $0.photometry.apertures.map(\.sum)
                },
                vector("FLUXERR_APER", "count", "RMS error vector for aperture flux(es)", length: n) {
                    $0.photometry.apertures.map(\.error)
                },
                real("KRON_RADIUS", "", "Kron apertures in units of A or B") { $0.photometry.kronRadius },
                real("FLUX_AUTO", "count", "Flux within a Kron-like elliptical aperture") { $0.photometry.auto.sum },
                real("FLUXERR_AUTO", "count", "RMS error for AUTO flux") { $0.photometry.auto.error },
                real("FLUX_RADIUS", "pixel", "Fraction-of-light radius") { $0.photometry.fluxRadius },
                real("XWIN_IMAGE", "pixel", "Windowed position estimate along x (1-based)") { $0.xWindowed },
                real("YWIN_IMAGE", "pixel", "Windowed position estimate along y (1-based)") { $0.yWindowed },
                integer("FLAGS", "", "SEP extraction and photometry flags (SEP bit meanings)") { $0.flags },
            ]
        }
    }
}
