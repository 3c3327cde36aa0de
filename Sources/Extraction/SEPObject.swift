import CSEP

/// One object exactly as `sep_extract` returned it: 0-based pixel coordinates,
/// theta in radians counter-clockwise from +x, SEP's own flag bits.
public struct SEPObject: Equatable, Sendable {
    public var thresh: Float
    public var npix: Int32
    public var tnpix: Int32
    public var xmin: Int32, xmax: Int32, ymin: Int32, ymax: Int32
    public var x: Double, y: Double
    public var x2: Double, y2: Double, xy: Double
    public var errx2: Double, erry2: Double, errxy: Double
    public var a: Float, b: Float, theta: Float
    public var cxx: Float, cyy: Float, cxy: Float
    public var cflux: Float, flux: Float
    public var cpeak: Float, peak: Float
    public var xcpeak: Int32, ycpeak: Int32, xpeak: Int32, ypeak: Int32
    public var flag: Int16
    /// FWHM_IMAGE (SExtractor's Gaussian-core fit, `FWHMEstimate`): computed from the object's
    /// pixels while SEP's catalog is alive, not a sep_extract output.
    public var fwhm: Float = 0
}

extension SEPObject {
    /// Copies every object out of a `sep_catalog` (the caller frees the catalog).
    static func objects(in catalog: sep_catalog) -> [SEPObject] {
        (0..<Int(catalog.nobj)).map { i in
            SEPObject(
                thresh: catalog.thresh[i], npix: catalog.npix[i], tnpix: catalog.tnpix[i],
                xmin: catalog.xmin[i], xmax: catalog.xmax[i], ymin: catalog.ymin[i], ymax: catalog.ymax[i],
                x: catalog.x[i], y: catalog.y[i],
                x2: catalog.x2[i], y2: catalog.y2[i], xy: catalog.xy[i],
                errx2: catalog.errx2[i], erry2: catalog.erry2[i], errxy: catalog.errxy[i],
                a: catalog.a[i], b: catalog.b[i], theta: catalog.theta[i],
                cxx: catalog.cxx[i], cyy: catalog.cyy[i], cxy: catalog.cxy[i],
                cflux: catalog.cflux[i], flux: catalog.flux[i],
                cpeak: catalog.cpeak[i], peak: catalog.peak[i],
                xcpeak: catalog.xcpeak[i], ycpeak: catalog.ycpeak[i],
                xpeak: catalog.xpeak[i], ypeak: catalog.ypeak[i],
                flag: catalog.flag[i])
        }
    }
}
