import Foundation
import XCTest
import TestSupport
@testable import Extraction

/// The reference: Python's sep 1.2.1 under /usr/bin/python3 running the same calls our
/// wrapper makes (sep's documented recipes), on pixels it also writes as raw float32 so the
/// Swift side reads exactly the same numbers. Each measured column comes back as float64.
struct PythonReference {
    let width: Int
    let height: Int
    let pixels: [Float]
    let backgroundLevel: Double
    let backgroundRMS: Double
    /// `bkg.back()` and `bkg.rms()` as float32.
    let backgroundMap: [Float]
    let rmsMap: [Float]
    let count: Int
    private let columns: [String: [Double]]

    func column(_ name: String) -> [Double] {
        guard let values = columns[name] else { preconditionFailure("no reference column \(name)") }
        return values
    }

    /// `image.fits`-style input: astropy reads the raw integers and applies BSCALE/BZERO in
    /// double precision before rounding to float32, as CFITSIO does.
    /// `maskedColumns` > 0 masks that many columns on the left, in every sep call.
    static func fits(_ url: URL, parameters: ExtractionParameters = ExtractionParameters(),
                     maskedColumns: Int = 0) throws -> PythonReference {
        try run(mode: "fits", source: url.path, parameters: parameters, maskedColumns: maskedColumns)
    }

    /// A numpy frame: `stars` Gaussian stars on a flat sky with Poisson noise, fixed seed.
    static func synthetic(seed: Int, size: Int, stars: Int,
                          parameters: ExtractionParameters = ExtractionParameters()) throws -> PythonReference {
        try run(mode: "synthetic", source: "\(seed),\(size),\(stars)", parameters: parameters)
    }

    private static func run(mode: String, source: String, parameters: ExtractionParameters,
                            maskedColumns: Int = 0) throws -> PythonReference {
        let directory = try TestSupport.makeTemporaryDirectory("sextant-extraction-ref")
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = directory.appendingPathComponent("ref.py")
        try script_.write(to: script, atomically: true, encoding: .utf8)
        let output = try TestSupport.run(TestSupport.systemPython,
                                         [script.path, mode, source, directory.path, String(decoding: try JSONEncoder().encode(parameters), as: UTF8.self), String(maskedColumns)])
        guard output.status == 0 else {
            throw TestSupportError.commandFailed("reference python failed (\(output.status)): \(output.stderr)")
        }
        struct Meta: Decodable {
            var width: Int, height: Int, count: Int, columns: [String]
            var global: Double, globalrms: Double
        }
        let meta = try JSONDecoder().decode(Meta.self, from: Data(contentsOf: directory.appendingPathComponent("meta.json")))
        let pixels = try readRaw(Float.self, directory.appendingPathComponent("pixels.f32"))
        let table = try readRaw(Double.self, directory.appendingPathComponent("ref.f64"))
        guard pixels.count == meta.width * meta.height, table.count == meta.columns.count * meta.count else {
            throw TestSupportError.commandFailed("reference output has the wrong size")
        }
        var columns: [String: [Double]] = [:]
        for (index, name) in meta.columns.enumerated() {
            columns[name] = Array(table[(index * meta.count)..<((index + 1) * meta.count)])
        }
        return PythonReference(width: meta.width, height: meta.height, pixels: pixels,
                               backgroundLevel: meta.global, backgroundRMS: meta.globalrms,
                               backgroundMap: try readRaw(Float.self, directory.appendingPathComponent("back.f32")),
                               rmsMap: try readRaw(Float.self, directory.appendingPathComponent("rms.f32")),
                               count: meta.count, columns: columns)
    }

    static func readRaw<T>(_ type: T.Type, _ url: URL) throws -> [T] {
        let data = try Data(contentsOf: url)
        let count = data.count / MemoryLayout<T>.stride
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            _ = data.withUnsafeBytes { memcpy(buffer.baseAddress!, $0.baseAddress!, count * MemoryLayout<T>.stride) }
            initialized = count
        }
    }

    private static let script_ = #"""
import json, sys, warnings
warnings.simplefilter("ignore")
import numpy as np
import sep

mode, source, outdir, params_json, masked_columns = sys.argv[1:6]
p = json.loads(params_json)
masked_columns = int(masked_columns)

if mode == "fits":
    from astropy.io import fits
    with fits.open(source, do_not_scale_image_data=True) as hdul:
        hdu = hdul[0]
        raw = hdu.data
        bscale = float(hdu.header.get("BSCALE", 1.0))
        bzero = float(hdu.header.get("BZERO", 0.0))
    d = (raw.astype(np.float64) * bscale + bzero).astype(np.float32)
else:
    seed, size, nstars = (int(v) for v in source.split(","))
    rng = np.random.default_rng(seed)
    img = np.full((size, size), 200.0)
    yy, xx = np.mgrid[-7:8, -7:8]
    for _ in range(nstars):
        cx, cy = rng.uniform(8, size - 9, 2)
        flux = rng.lognormal(8.0, 1.2)
        sigma = rng.uniform(1.2, 2.5)
        ix, iy = int(cx), int(cy)
        dx, dy = xx - (cx - ix), yy - (cy - iy)
        img[iy - 7:iy + 8, ix - 7:ix + 8] += flux / (2 * np.pi * sigma**2) * np.exp(-(dx**2 + dy**2) / (2 * sigma**2))
    d = rng.poisson(img).astype(np.float32)

d = np.ascontiguousarray(d, dtype=np.float32)
d.tofile(outdir + "/pixels.f32")
mask = None
if masked_columns > 0:
    mask = np.zeros(d.shape, dtype=np.bool_)
    mask[:, :masked_columns] = True

bg = p.get("background", {})
bkg = sep.Background(d, bw=bg.get("boxWidth", 64), bh=bg.get("boxHeight", 64),
                     fw=bg.get("filterWidth", 3), fh=bg.get("filterHeight", 3),
                     fthresh=bg.get("filterThreshold", 0.0), mask=mask)
sub = d - bkg
bkg.back(dtype=np.float32).tofile(outdir + "/back.f32")
bkg.rms(dtype=np.float32).tofile(outdir + "/rms.f32")
if mask is not None:
    sub[mask] = 0  # as our wrapper does (SEP 1.2.1 ignores the mask in the first rows when filtering)
err = bkg.rms() if p.get("noise") == "rmsMap" else bkg.globalrms
gain = p.get("gain")
kernel = p.get("filter", "default")
if kernel is None:
    kern = None
else:
    kern = np.array(kernel["weights"], dtype=np.float32).reshape(kernel["height"], kernel["width"])
obj = sep.extract(sub, p.get("threshold", 1.5), err=err, gain=gain, mask=mask, minarea=p.get("minimumArea", 5),
                  filter_kernel=kern, filter_type="matched" if p.get("filterType") == "matched" else "conv",
                  deblend_nthresh=p.get("deblendThresholds", 32), deblend_cont=p.get("deblendContrast", 0.005),
                  clean=p.get("clean", True), clean_param=p.get("cleanParameter", 1.0))
n = len(obj)
x, y, a, b, theta = obj["x"], obj["y"], obj["a"], obj["b"], obj["theta"]
cols = {}
for name in ["x", "y", "x2", "y2", "xy", "a", "b", "theta", "cxx", "cyy", "cxy", "npix", "flux", "peak",
             "xmin", "xmax", "ymin", "ymax", "flag"]:
    cols[name] = obj[name].astype(np.float64)
for i, r in enumerate(p.get("apertureRadii", [3.0])):
    s, e, f = sep.sum_circle(sub, x, y, r, err=err, gain=gain, mask=mask, subpix=p.get("subpixels", 5))
    cols["aper%d" % i], cols["apererr%d" % i], cols["aperflag%d" % i] = s, e, f.astype(np.float64)
kr, krflag = sep.kron_radius(sub, x, y, a, b, theta, 6.0, mask=mask)
rmin = p.get("kronMinimumRadius", 3.5)
kfac = p.get("kronFactor", 2.5)
asub = p.get("autoSubpixels", 1)
circ = kr * np.sqrt(a * b) < rmin
ell = ~circ
af, ae, afl = np.zeros(n), np.zeros(n), np.zeros(n, dtype=np.int64)
if ell.any():
    f_, e_, fl_ = sep.sum_ellipse(sub, x[ell], y[ell], a[ell], b[ell], theta[ell], kfac * kr[ell],
                                  err=err, gain=gain, mask=mask, subpix=asub)
    af[ell], ae[ell], afl[ell] = f_, e_, fl_
if circ.any():
    f_, e_, fl_ = sep.sum_circle(sub, x[circ], y[circ], rmin, err=err, gain=gain, mask=mask, subpix=asub)
    af[circ], ae[circ], afl[circ] = f_, e_, fl_
fr, frflag = sep.flux_radius(sub, x, y, 6. * a, p.get("fluxRadiusFraction", 0.5), normflux=af, mask=mask,
                             subpix=p.get("subpixels", 5))
sig = 2. / 2.35 * fr
xw, yw, wflag = sep.winpos(sub, x, y, sig, mask=mask, subpix=p.get("windowedSubpixels", 11))
cols.update(kronrad=kr, krflag=krflag.astype(np.float64), auto=af, autoerr=ae, autoflag=afl.astype(np.float64),
            autocircle=circ.astype(np.float64), fluxradius=fr, frflag=frflag.astype(np.float64),
            xwin=xw, ywin=yw, winflag=wflag.astype(np.float64))
names = list(cols)
np.stack([np.asarray(cols[k], dtype=np.float64) for k in names]).reshape(len(names), n).tofile(outdir + "/ref.f64")
json.dump({"width": int(d.shape[1]), "height": int(d.shape[0]), "count": n, "columns": names,
           "global": float(bkg.globalback), "globalrms": float(bkg.globalrms)}, open(outdir + "/meta.json", "w"))
print(n)
"""#
}

