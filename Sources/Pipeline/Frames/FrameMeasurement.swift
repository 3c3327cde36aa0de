import Extraction
import FITS
import Foundation
import WCS

/// Turns one extracted HDU into its frame-table row: the background SEP measured, the sources'
/// FWHM, depth and flags, the WCS centre and corners, and the chosen header values.
enum FrameMeasurement {
    static func row(of field: CatalogField, primary: FITSHeader?, keywords: [String]) -> FrameRow {
        let catalog = field.catalog
        let header = field.imageHeader
        let rms = Double(catalog.backgroundRMS)
        let zeroPoint = catalog.magnitudeZeroPoint != 0 ? catalog.magnitudeZeroPoint : nil
        var row = FrameRow(hdu: field.provenance.hdu, extname: field.provenance.extname,
                           background: Double(catalog.backgroundLevel), rms: rms, sources: catalog.count,
                           fwhm: medianPointSourceFWHM(catalog), depth: depth(catalog), zeroPoint: zeroPoint,
                           flagged: catalog.count == 0 ? 0
                               : Double(catalog.sources.filter { $0.sextractorFlags != 0 }.count) / Double(catalog.count))
        if let wcs = try? WorldCoordinateSystem(headerRecords: header.records) {
            let w = Double(catalog.imageWidth), h = Double(catalog.imageHeight)
            // 1-based FITS pixels: the centre, then the outer corners of the corner pixels.
            let points = wcs.skyPositions(x: [(w + 1) / 2, 0.5, w + 0.5, w + 0.5, 0.5],
                                          y: [(h + 1) / 2, 0.5, 0.5, h + 0.5, h + 0.5])
            if points.allSatisfy({ $0.alpha.isFinite && $0.delta.isFinite }) {
                row.ra = points[0].alpha
                row.dec = points[0].delta
                row.corners = points.dropFirst().flatMap { [$0.alpha, $0.delta] }
            }
        }
        let values = keywords.compactMap { name in value(of: name, in: header, primary: primary).map { (name, $0) } }
        row.keywords = values.isEmpty ? nil : Dictionary(values) { first, _ in first }
        row.mjd = observationMJD(header: header, primary: primary)
        return row
    }

    /// The flux whose error in the first aperture is a fifth of it: background noise over the
    /// aperture's area, plus the source's own Poisson noise when the gain is known.
    static func depth(_ catalog: Catalog) -> Double {
        guard let radius = catalog.apertureRadii.first else { return .nan }
        let variance = Double(catalog.backgroundRMS) * Double(catalog.backgroundRMS) * Double.pi * radius * radius
        guard let gain = catalog.gain, gain > 0 else { return 5 * variance.squareRoot() }
        // F = 5 sqrt(variance + F / gain): the positive root of F^2 - 25 F / gain - 25 variance = 0.
        let b = 25 / gain
        return (b + (b * b + 100 * variance).squareRoot()) / 2
    }

    /// The median FWHM of the point-like sources (`FWHMEstimate.isSeeingStar`) with a fitted FWHM.
    static func medianPointSourceFWHM(_ catalog: Catalog) -> Double? {
        let widths = catalog.sources.compactMap { source -> Double? in
            guard source.object.fwhm > 0, FWHMEstimate.isSeeingStar(
                source.object, flags: source.sextractorFlags, backgroundRMS: catalog.backgroundRMS) else { return nil }
            return Double(source.object.fwhm)
        }.sorted()
        guard !widths.isEmpty else { return nil }
        let middle = widths.count / 2
        return widths.count % 2 == 1 ? widths[middle] : (widths[middle - 1] + widths[middle]) / 2
    }

    /// A keyword from the HDU's header, else from the primary header (a mosaic keeps FILTER there).
    static func value(of keyword: String, in header: FITSHeader, primary: FITSHeader?) -> FrameValue? {
        for source in [header, primary].compactMap({ $0 }) {
            switch source[keyword] {
            case .int(let number)?: return .number(Double(number))
            case .double(let number)?: return .number(number)
            case .string(let text)?: return .text(text.trimmingCharacters(in: .whitespaces))
            case .bool(let flag)?: return .text(flag ? "T" : "F")
            default: continue
            }
        }
        return nil
    }

    /// MJD-OBS, else DATE-OBS (ISO 8601, date or date and time) as an MJD.
    static func observationMJD(header: FITSHeader, primary: FITSHeader?) -> Double? {
        if let mjd = value(of: "MJD-OBS", in: header, primary: primary)?.number { return mjd }
        guard case .text(let date)? = value(of: "DATE-OBS", in: header, primary: primary) else { return nil }
        return modifiedJulianDate(iso: date)
    }

    static func modifiedJulianDate(iso text: String) -> Double? {
        let parts = text.split(separator: "T", maxSplits: 1)
        let day = parts.first.map { $0.split(separator: "-").compactMap { Int($0) } } ?? []
        guard day.count == 3 else { return nil }
        var seconds = 0.0
        if parts.count == 2 {
            let clock = parts[1].split(separator: ":").compactMap { Double($0) }
            guard !clock.isEmpty else { return nil }
            seconds = clock.enumerated().reduce(0) { $0 + $1.element * [3600, 60, 1][min($1.offset, 2)] }
        }
        // Days from the civil date (Fliegel & Van Flandern), then MJD = JD - 2400000.5.
        let (y, m, d) = (day[0], day[1], day[2])
        let a = (14 - m) / 12, yy = y + 4800 - a, mm = m + 12 * a - 3
        let julianDay = d + (153 * mm + 2) / 5 + 365 * yy + yy / 4 - yy / 100 + yy / 400 - 32045
        return Double(julianDay) - 2_400_001 + seconds / 86_400
    }
}
