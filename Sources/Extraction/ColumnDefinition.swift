import Foundation

/// A column chosen for one catalog: its description, what it needs measured, its values.
struct ResolvedColumn {
    var description: ColumnDescription
    var needs: MeasurementPlan
    var values: (Catalog) -> CatalogColumn.Values
}

/// One column Sextant can write, named and defined as SExtractor defines it (where SEP's
/// value differs, the description says so).
struct ColumnDefinition: Sendable {
    enum Shape: Sendable {
        case integer(@Sendable (Source) -> Int)
        case real(@Sendable (Catalog, Source) -> Double)
        /// One value per aperture: `(catalog, source, aperture index)`.
        case perAperture(@Sendable (Catalog, Source, Int) -> Double)
        /// A width x height cut-out (VIGNET).
        case stamp
    }

    var name: String
    var unit: String
    var text: String
    var needs: MeasurementPlan
    var shape: Shape

    /// How the column is written in a .param file.
    var usage: String {
        switch shape {
        case .perAperture: return "\(name)(n)"
        case .stamp: return "\(name)(w,h)"
        default: return name
        }
    }

    func resolve(_ request: ColumnRequest, apertureCount: Int) throws -> ResolvedColumn {
        func description(_ kind: ColumnDescription.Kind, dimensions: [Int]? = nil) -> ColumnDescription {
            ColumnDescription(name: name, unit: unit, description: text, kind: kind, dimensions: dimensions)
        }
        switch shape {
        case .integer(let value):
            try requireNoSize(request)
            return ResolvedColumn(description: description(.integer), needs: needs) { .integers($0.sources.map(value)) }
        case .real(let value):
            // FLUX_RADIUS(n) is one radius per PHOT_FLUXFRAC fraction; Sextant measures one.
            if name != "FLUX_RADIUS" || request.sizes.count > 1 { try requireNoSize(request) }
            return ResolvedColumn(description: description(.real), needs: needs) { catalog in
                .reals(catalog.sources.map { value(catalog, $0) })
            }
        case .perAperture(let value):
            guard request.sizes.count <= 1 else {
                throw ExtractionError.invalidParameter("\(request): \(name) takes one size, the number of apertures")
            }
            let count = request.sizes.first ?? apertureCount
            guard count <= apertureCount else {
                throw ExtractionError.invalidParameter(
                    "\(request) asks for \(count) apertures but \(apertureCount) radii are set (PHOT_APERTURES, --aperture)")
            }
            return ResolvedColumn(description: description(.realVector(length: count)), needs: needs) { catalog in
                .realVectors(catalog.sources.flatMap { source in (0..<count).map { value(catalog, source, $0) } },
                             length: count)
            }
        case .stamp:
            guard request.sizes.count == 2 else {
                throw ExtractionError.invalidParameter("\(request): \(name) needs a width and a height, as VIGNET(35,35)")
            }
            var needs = self.needs
            needs.vignetSize = request.sizes
            let length = request.sizes[0] * request.sizes[1]
            return ResolvedColumn(description: description(.realVector(length: length), dimensions: request.sizes),
                                  needs: needs) { catalog in
                .realVectors(catalog.sources.flatMap { $0.vignet.map(Double.init) }, length: length)
            }
        }
    }

    private func requireNoSize(_ request: ColumnRequest) throws {
        if !request.sizes.isEmpty { throw ExtractionError.invalidParameter("\(request): \(name) takes no size") }
    }

    static let byName: [String: ColumnDefinition] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// The columns of a catalog when none are chosen, in order (as before column selection).
    static let defaultNames = [
        "NUMBER", "X_IMAGE", "Y_IMAGE", "X2_IMAGE", "Y2_IMAGE", "XY_IMAGE", "A_IMAGE", "B_IMAGE",
        "THETA_IMAGE", "CXX_IMAGE", "CYY_IMAGE", "CXY_IMAGE", "ISOAREA_IMAGE", "FLUX_ISO", "FLUX_MAX",
        "XMIN_IMAGE", "YMIN_IMAGE", "XMAX_IMAGE", "YMAX_IMAGE", "FLUX_APER", "FLUXERR_APER",
        "KRON_RADIUS", "FLUX_AUTO", "FLUXERR_AUTO", "FLUX_RADIUS", "XWIN_IMAGE", "YWIN_IMAGE", "FLAGS",
    ]
    /// Added to the default columns when the image has a celestial WCS.
    static let skyNames = ["ALPHA_J2000", "DELTA_J2000", "ALPHAWIN_J2000", "DELTAWIN_J2000"]
}
