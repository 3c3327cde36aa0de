import Foundation

extension ColumnDefinition {
    private static let photometry = MeasurementPlan(apertures: true)
    private static let auto = MeasurementPlan(auto: true)
    private static let fluxRadius = MeasurementPlan(fluxRadius: true)
    private static let windowed = MeasurementPlan(windowed: true)
    private static let windowedFlux = MeasurementPlan(windowedFlux: true)
    private static let detection = MeasurementPlan.none

    private static func integer(_ name: String, _ unit: String, _ text: String,
                                _ value: @escaping @Sendable (Source) -> Int) -> ColumnDefinition {
        ColumnDefinition(name: name, unit: unit, text: text, needs: detection, shape: .integer(value))
    }

    private static func real(_ name: String, _ unit: String, _ text: String, needs: MeasurementPlan = detection,
                             _ value: @escaping @Sendable (Source) -> Double) -> ColumnDefinition {
        ColumnDefinition(name: name, unit: unit, text: text, needs: needs, shape: .real { value($1) })
    }

    private static func catalogReal(_ name: String, _ unit: String, _ text: String, needs: MeasurementPlan = detection,
                                    _ value: @escaping @Sendable (Catalog, Source) -> Double) -> ColumnDefinition {
        ColumnDefinition(name: name, unit: unit, text: text, needs: needs, shape: .real(value))
    }

    private static func aperture(_ name: String, _ unit: String, _ text: String,
                                 _ value: @escaping @Sendable (Catalog, Source, Int) -> Double) -> ColumnDefinition {
        ColumnDefinition(name: name, unit: unit, text: text, needs: photometry, shape: .perAperture(value))
    }

    /// Every column, default ones first in their historical order.
    static let all: [ColumnDefinition] = [
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
        aperture("FLUX_APER", "count", "Flux vector within fixed circular aperture(s)") { $1.photometry.apertures[$2].sum },
        aperture("FLUXERR_APER", "count", "RMS error vector for aperture flux(es)") { $1.photometry.apertures[$2].error },
        real("KRON_RADIUS", "", "Kron apertures in units of A or B", needs: auto) { $0.photometry.kronRadius },
        real("FLUX_AUTO", "count", "Flux within a Kron-like elliptical aperture", needs: auto) { $0.photometry.auto.sum },
        real("FLUXERR_AUTO", "count", "RMS error for AUTO flux", needs: auto) { $0.photometry.auto.error },
        real("FLUX_RADIUS", "pixel", "Fraction-of-light radius", needs: fluxRadius) { $0.photometry.fluxRadius },
        real("XWIN_IMAGE", "pixel", "Windowed position estimate along x (1-based)", needs: windowed) { $0.xWindowed },
        real("YWIN_IMAGE", "pixel", "Windowed position estimate along y (1-based)", needs: windowed) { $0.yWindowed },
        ColumnDefinition(name: "FLAGS", unit: "", text: "Extraction flags (SExtractor's meanings)",
                         needs: MeasurementPlan(sextractorFlags: true), shape: .integer { $0.sextractorFlags }),

        // Sky positions: written only when the image has a celestial WCS.
        real("ALPHA_J2000", "deg", "Right ascension of barycenter (J2000)") { $0.world?.alpha ?? .nan },
        real("DELTA_J2000", "deg", "Declination of barycenter (J2000)") { $0.world?.delta ?? .nan },
        real("ALPHAWIN_J2000", "deg", "Windowed right ascension (J2000)", needs: windowed) { $0.world?.alphaWindowed ?? .nan },
        real("DELTAWIN_J2000", "deg", "Windowed declination (J2000)", needs: windowed) { $0.world?.deltaWindowed ?? .nan },

        // Magnitudes: MAG_ZEROPOINT - 2.5 log10(flux); 99 when the flux is not positive, as SExtractor.
        catalogReal("MAG_ISO", "mag", "Isophotal magnitude") { magnitude($0, Double($1.object.flux)) },
        catalogReal("MAGERR_ISO", "mag", "RMS error for isophotal magnitude") {
            magnitudeError(Double($1.object.flux), isophotalError($0, $1))
        },
        catalogReal("FLUXERR_ISO", "count", "RMS error for isophotal flux") { isophotalError($0, $1) },
        aperture("MAG_APER", "mag", "Fixed aperture magnitude vector") { magnitude($0, $1.photometry.apertures[$2].sum) },
        aperture("MAGERR_APER", "mag", "RMS error vector for fixed aperture mag.") {
            magnitudeError($1.photometry.apertures[$2].sum, $1.photometry.apertures[$2].error)
        },
        catalogReal("MAG_AUTO", "mag", "Kron-like elliptical aperture magnitude", needs: auto) {
            magnitude($0, $1.photometry.auto.sum)
        },
        real("MAGERR_AUTO", "mag", "RMS error for AUTO magnitude", needs: auto) {
            magnitudeError($0.photometry.auto.sum, $0.photometry.auto.error)
        },
        // Position errors: SEP's errx2/erry2/errxy, which are SExtractor's ERRX2_IMAGE etc.
        real("ERRX2_IMAGE", "pixel**2", "Variance of position along x") { $0.object.errx2 },
        real("ERRY2_IMAGE", "pixel**2", "Variance of position along y") { $0.object.erry2 },
        real("ERRXY_IMAGE", "pixel**2", "Covariance of position between x and y") { $0.object.errxy },
        real("ERRA_IMAGE", "pixel", "RMS position error along major axis") { errorEllipse($0).a },
        real("ERRB_IMAGE", "pixel", "RMS position error along minor axis") { errorEllipse($0).b },
        real("ERRTHETA_IMAGE", "deg", "Error ellipse position angle (CCW/x)") { errorEllipse($0).theta },
        real("ELONGATION", "", "A_IMAGE/B_IMAGE") { Double($0.object.a) / Double($0.object.b) },
        real("ELLIPTICITY", "", "1 - B_IMAGE/A_IMAGE") { 1 - Double($0.object.b) / Double($0.object.a) },
        // SExtractor's: FLUX_WIN / FLUXERR_WIN, 1e30 (BIG) when the error is 0.
        real("SNR_WIN", "", "Gaussian-weighted SNR", needs: windowedFlux) {
            guard let w = $0.windowedFlux else { return .nan }
            return w.error * w.error > 1e-30 ? w.flux / w.error : 1e30
        },
        real("BACKGROUND", "count", "Background at centroid position",
             needs: MeasurementPlan(localBackground: true)) { $0.localBackground ?? .nan },
        real("THRESHOLD", "count", "Detection threshold above background") { Double($0.object.thresh) },
        // Issue 15: SEP's own flags, the windowed flux, the flag image.
        integer("SEP_FLAGS", "", "SEP extraction and photometry flags (SEP bit meanings)") { $0.sepFlags },
        real("FLUX_WIN", "count", "Gaussian-weighted flux", needs: windowedFlux) { $0.windowedFlux?.flux ?? .nan },
        real("FLUXERR_WIN", "count", "RMS error for WIN flux", needs: windowedFlux) { $0.windowedFlux?.error ?? .nan },
        catalogReal("MAG_WIN", "mag", "Gaussian-weighted magnitude", needs: windowedFlux) {
            magnitude($0, $1.windowedFlux?.flux ?? .nan)
        },
        real("MAGERR_WIN", "mag", "RMS error for MAG_WIN", needs: windowedFlux) {
            magnitudeError($0.windowedFlux?.flux ?? .nan, $0.windowedFlux?.error ?? .nan)
        },
        ColumnDefinition(name: "FLAGS_WIN", unit: "", text: "Flags for WINdowed parameters", needs: windowedFlux,
                         shape: .integer { $0.windowedFlux?.flags ?? 0 }),
        ColumnDefinition(name: "IMAFLAGS_ISO", unit: "", text: "FLAG-image flags OR'ed over the iso. profile",
                         needs: MeasurementPlan(imageFlags: true), shape: .integer { $0.imageFlags?.value ?? 0 }),
        ColumnDefinition(name: "NIMAFLAGS_ISO", unit: "", text: "Number of flagged pixels entering IMAFLAGS_ISO",
                         needs: MeasurementPlan(imageFlags: true), shape: .integer { $0.imageFlags?.count ?? 0 }),
        real("FWHM_IMAGE", "pixel", "FWHM assuming a gaussian core", needs: MeasurementPlan(fwhm: true)) {
            Double($0.object.fwhm)
        },
        ColumnDefinition(name: "VIGNET", unit: "count", text: "Pixel data around detection (background subtracted)",
                         needs: detection, shape: .stamp),
    ]

    static func magnitude(_ catalog: Catalog, _ flux: Double) -> Double {
        flux > 0 ? catalog.magnitudeZeroPoint - 2.5 * log10(flux) : 99
    }

    static func magnitudeError(_ flux: Double, _ error: Double) -> Double {
        flux > 0 ? 2.5 / M_LN10 * error / flux : 99
    }

    /// SExtractor's sqrt(sum of pixel variances + flux/gain), with the global background rms
    /// as every pixel's sigma (sep_extract does not return per-object variance sums).
    static func isophotalError(_ catalog: Catalog, _ source: Source) -> Double {
        let rms = Double(catalog.backgroundRMS), flux = Double(source.object.flux)
        var variance = Double(source.object.npix) * rms * rms
        if let gain = catalog.gain, gain > 0, flux > 0 { variance += flux / gain }
        return variance.squareRoot()
    }

    /// SExtractor's ERRA/ERRB/ERRTHETA from the position covariance.
    static func errorEllipse(_ source: Source) -> (a: Double, b: Double, theta: Double) {
        let x2 = source.object.errx2, y2 = source.object.erry2, xy = source.object.errxy
        let half = (x2 + y2) / 2
        let root = ((x2 - y2) * (x2 - y2) / 4 + xy * xy).squareRoot()
        let theta = (xy == 0 && x2 == y2) ? 0 : atan2(2 * xy, x2 - y2) / 2 * 180 / .pi
        return ((half + root).squareRoot(), max(half - root, 0).squareRoot(), theta)
    }
}
