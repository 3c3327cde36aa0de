import Extraction
import FITS
import Foundation
import WCS

/// Where a catalog came from and how it was measured: recorded in the FITS header so a
/// catalog found years later still says which image, which HDU and which parameters.
public struct CatalogProvenance: Sendable {
    /// The input's path relative to its root (the manifest has the full URI): a catalog is then
    /// the same bytes whether its image came from a disk, S3 or another mount point.
    public var input: String
    public var hdu: Int
    public var extname: String?
    public var parameters: ExtractionParameters
    /// SHA-256 of the input's bytes (nil when the job does not hash its inputs).
    public var inputSHA256: String?
    /// `CatalogRecipe.sha256()` of the job's parameters.
    public var parametersSHA256: String?

    public init(input: String, hdu: Int, extname: String?, parameters: ExtractionParameters,
                inputSHA256: String? = nil, parametersSHA256: String? = nil) {
        self.input = input
        self.hdu = hdu
        self.extname = extname
        self.parameters = parameters
        self.inputSHA256 = inputSHA256
        self.parametersSHA256 = parametersSHA256
    }
}

/// One image HDU's catalog with what its file records about it.
public struct CatalogField: Sendable {
    public var catalog: Catalog
    public var provenance: CatalogProvenance
    /// The image HDU's header: LDAC_IMHEAD holds it, and its WCS keywords are copied.
    public var imageHeader: FITSHeader
    /// How the sky columns were made, or why there are none (a header card says so).
    public var sky: String

    public init(catalog: Catalog, provenance: CatalogProvenance, imageHeader: FITSHeader = FITSHeader(cards: []),
                sky: String = "") {
        self.catalog = catalog
        self.provenance = provenance
        self.imageHeader = imageHeader
        self.sky = sky
    }
}

/// Turns catalogs into the bytes of their file, in the format asked for.
public enum CatalogEncoder {
    public static func encode(_ catalog: Catalog, format: CatalogFormat,
                              provenance: CatalogProvenance) throws -> Data {
        try encode([CatalogField(catalog: catalog, provenance: provenance)], format: format)
    }

    /// One file for an input: a single HDU's catalog as before; a multi-extension image's
    /// catalogs one table per image HDU (FITS, LDAC) or one CSV with a leading EXT_NUMBER column.
    public static func encode(_ fields: [CatalogField], format: CatalogFormat) throws -> Data {
        let name = fields.first?.provenance.input ?? "<catalog>"
        switch format {
        case .csv: return CSVCatalogEncoder.encode(fields.map { ($0.catalog, $0.provenance.hdu) },
                                                   extensionColumn: fields.count > 1)
        case .fits: return try FITSTableWriter.data(of: fields.map { fitsTable($0, types: .historical) }, name: name)
        case .ldac:
            return try LDACWriter(fields: fields.map { field in
                LDACWriter.Field(imageHeader: field.imageHeader.records, objects: fitsTable(field, types: .sextractor),
                                 extraCards: sextractorCards(field))
            }).data(name: name)
        }
    }

    /// How columns are typed in the file.
    enum ColumnTypes {
        /// Sextant's FITS catalogs: every real as a double, integers as 32-bit.
        case historical
        /// As SExtractor writes them, which PSFEx and SCAMP read by type: single-precision
        /// reals except positions, 16-bit FLAGS, VIGNET as floats.
        case sextractor
    }

    static let sextractorDoubles: Set<String> = [
        "X_IMAGE", "Y_IMAGE", "XWIN_IMAGE", "YWIN_IMAGE", "X2_IMAGE", "Y2_IMAGE", "XY_IMAGE",
        "ERRX2_IMAGE", "ERRY2_IMAGE", "ERRXY_IMAGE",
        "ALPHA_J2000", "DELTA_J2000", "ALPHAWIN_J2000", "DELTAWIN_J2000",
    ]

    static func fitsTable(_ field: CatalogField, types: ColumnTypes) -> FITSTableWriter {
        let columns = field.catalog.columns.map { column -> FITSColumn in
            let name = column.description.name, unit = column.description.unit
            let single = types == .sextractor && !sextractorDoubles.contains(name)
            switch column.values {
            case .integers(let values):
                if types == .sextractor, name == "FLAGS" {
                    return FITSColumn(name, .int16(values.map { Int16(clamping: $0) }), unit: unit)
                }
                return FITSColumn(name, .int32(values.map { Int32(clamping: $0) }), unit: unit)
            case .reals(let values):
                return FITSColumn(name, single ? .float(values.map(Float.init)) : .double(values), unit: unit)
            case .realVectors(let values, let length):
                let stored: FITSColumn.Values = single || name == "VIGNET" ? .float(values.map(Float.init)) : .double(values)
                return FITSColumn(name, stored, count: max(length, 1), unit: unit,
                                  dimensions: column.description.dimensions)
            }
        }
        var keywords = headerCards(field.catalog, field.provenance)
        if !field.sky.isEmpty { keywords.append(.string("SKYCOORD", field.sky, comment: "sky columns (ALPHA_J2000...)")) }
        if columns.contains(where: { $0.name.hasPrefix("MAG") }) {
            keywords.append(.double("MAGZP", field.catalog.magnitudeZeroPoint, comment: "MAG_ZEROPOINT of the MAG_* columns"))
        }
        keywords += wcsCards(field.imageHeader)
        return FITSTableWriter(columns: columns, keywords: keywords, extname: "LDAC_OBJECTS")
    }

    /// What SExtractor adds to an LDAC image header and PSFEx reads (SEXBKDEV at least).
    static func sextractorCards(_ field: CatalogField) -> [FITSCard] {
        let catalog = field.catalog, p = field.provenance.parameters
        let threshold = p.thresholdKind == .relative ? p.threshold * Double(catalog.backgroundRMS) : p.threshold
        var cards: [FITSCard] = [
            .int("SEXNDET", catalog.count, comment: "Number of detected objects"),
            .double("SEXBKGND", Double(catalog.backgroundLevel), comment: "Median background level (ADU)"),
            .double("SEXBKDEV", Double(catalog.backgroundRMS), comment: "Median background RMS (ADU)"),
            .double("SEXTHLD", threshold, comment: "Extraction threshold (ADU)"),
            .double("SEXGAIN", p.gain ?? 0, comment: "Gain used (e-/ADU)"),
            .double("SEXMGZPT", catalog.magnitudeZeroPoint, comment: "Zero-point used for magnitudes"),
            .int("SEXNFIN", p.minimumArea, comment: "Minimum area (DETECT_MINAREA)"),
        ]
        for (index, radius) in p.apertureRadii.enumerated() {
            cards.append(.double("SEXAPED\(index + 1)", 2 * radius, comment: "Aperture diameter (pixels)"))
        }
        return cards
    }

    /// The image's WCS keywords, copied so a catalog alone can be re-projected.
    static func wcsCards(_ header: FITSHeader) -> [FITSCard] {
        var seen = Set<String>()
        return header.cards.filter { card in
            card.value != nil && WorldCoordinateSystem.isWCSKeyword(card.keyword)
                && seen.insert(card.keyword.uppercased()).inserted
        }
    }

    static func headerCards(_ catalog: Catalog, _ provenance: CatalogProvenance) -> [FITSCard] {
        let p = provenance.parameters
        var cards: [FITSCard] = [
            .string("SOFTNAME", "Sextant", comment: "software that made this catalog"),
            .string("SOFTVERS", SextantVersion.string, comment: "Sextant version"),
            .string("SEPVERS", SEPLibrary.version, comment: "libsep version"),
            .string("INPUT", provenance.input, comment: "image (relative path) the sources came from"),
            .int("INHDU", provenance.hdu, comment: "HDU of the image (0 = primary)"),
            .int("IMWIDTH", catalog.imageWidth, comment: "image width [pixel]"),
            .int("IMHEIGHT", catalog.imageHeight, comment: "image height [pixel]"),
            .double("BKGLEVEL", Double(catalog.backgroundLevel), comment: "global background level [count]"),
            .double("BKGRMS", Double(catalog.backgroundRMS), comment: "global background rms [count]"),
            .double("THRESH", p.threshold, comment: "detection threshold"),
            .string("THRTYPE", p.thresholdKind.rawValue, comment: "threshold relative to the noise or absolute"),
            .string("NOISE", p.noise.rawValue, comment: "noise used for detection and errors"),
            .int("MINAREA", p.minimumArea, comment: "minimum area of a detection [pixel]"),
            .string("FILTER", p.filter.map { "\($0.width)x\($0.height)" } ?? "none", comment: "detection filter kernel"),
            .int("DBNTHRSH", p.deblendThresholds, comment: "deblending sub-thresholds"),
            .double("DBCONT", p.deblendContrast, comment: "deblending minimum contrast"),
            .bool("CLEAN", p.clean, comment: "cleaning of spurious detections"),
            .double("CLEANPAR", p.cleanParameter, comment: "cleaning parameter"),
            .int("BACKW", p.background.boxWidth, comment: "background mesh width [pixel]"),
            .int("BACKH", p.background.boxHeight, comment: "background mesh height [pixel]"),
            .int("BACKFW", p.background.filterWidth, comment: "background filter width [mesh]"),
            .int("BACKFH", p.background.filterHeight, comment: "background filter height [mesh]"),
            .double("KRONFACT", p.kronFactor, comment: "FLUX_AUTO aperture in Kron radii"),
            .double("KRONMIN", p.kronMinimumRadius, comment: "minimum FLUX_AUTO radius [pixel]"),
            .int("NAPER", p.apertureRadii.count, comment: "number of FLUX_APER apertures"),
        ]
        if let extname = provenance.extname { cards.append(.string("INEXTNM", extname, comment: "EXTNAME of the image HDU")) }
        for (index, radius) in p.apertureRadii.enumerated() {
            cards.append(.double("APERR\(index + 1)", radius, comment: "FLUX_APER radius \(index + 1) [pixel]"))
        }
        if let gain = catalog.gain { cards.append(.double("GAIN", gain, comment: "gain used for errors [e-/count]")) }
        if let weight = p.weight { cards.append(.string("WEIGHTYP", weight.kind.rawValue, comment: "WEIGHT_TYPE of the noise")) }
        if let flags = p.flagImage {
            cards.append(.string("FLAGTYPE", flags.combination.rawValue, comment: "FLAG_TYPE of IMAFLAGS_ISO"))
        }
        // What SExtractor would have flagged and gone on with (an overflow), once per note.
        for note in catalog.notes { cards.append(.commentary("Sextant: \(note)")) }
        // Only what is the same wherever and whenever the catalog is made: no dates, hosts or build ids.
        cards.append(.string("CFITSVER", FITSLibrary.version, comment: "CFITSIO version"))
        if let hash = provenance.parametersSHA256 {
            cards.append(.string("PARHASH", hash, comment: "SHA-256 of the parameters' canonical JSON"))
        }
        if let hash = provenance.inputSHA256 { cards.append(.string("INSHA256", hash, comment: "SHA-256 of the input's bytes")) }
        return cards
    }
}
