import Extraction
import FITS
import Foundation

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

/// Turns a catalog into the bytes of its file, in the format asked for.
public enum CatalogEncoder {
    public static func encode(_ catalog: Catalog, format: CatalogFormat,
                              provenance: CatalogProvenance) throws -> Data {
        switch format {
        case .csv: return CSVCatalogEncoder.encode(catalog)
        case .fits: return try fitsTable(catalog, provenance: provenance).data(name: provenance.input)
        }
    }

    static func fitsTable(_ catalog: Catalog, provenance: CatalogProvenance) -> FITSTableWriter {
        let columns = catalog.columns.map { column -> FITSColumn in
            let name = column.description.name, unit = column.description.unit
            switch column.values {
            case .integers(let values): return FITSColumn(name, .int32(values.map { Int32(clamping: $0) }), unit: unit)
            case .reals(let values): return FITSColumn(name, .double(values), unit: unit)
            case .realVectors(let values, let length):
                return FITSColumn(name, .double(values), count: max(length, 1), unit: unit)
            }
        }
        return FITSTableWriter(columns: columns, keywords: headerCards(catalog, provenance), extname: "LDAC_OBJECTS")
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
        if let gain = p.gain { cards.append(.double("GAIN", gain, comment: "gain used for errors [e-/count]")) }
        // Only what is the same wherever and whenever the catalog is made: no dates, hosts or build ids.
        cards.append(.string("CFITSVER", FITSLibrary.version, comment: "CFITSIO version"))
        if let hash = provenance.parametersSHA256 {
            cards.append(.string("PARHASH", hash, comment: "SHA-256 of the parameters' canonical JSON"))
        }
        if let hash = provenance.inputSHA256 { cards.append(.string("INSHA256", hash, comment: "SHA-256 of the input's bytes")) }
        return cards
    }
}
