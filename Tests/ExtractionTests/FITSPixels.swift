import Foundation
import TestSupport
@testable import Extraction

/// Reads a FITS image with astropy (BSCALE/BZERO applied in double precision, then float32,
/// as CFITSIO gives) through a raw float32 file, so these tests do not need our FITS module.
func readFITSWithAstropy(_ url: URL, label: String? = nil) throws -> SkyImage {
    let directory = try TestSupport.makeTemporaryDirectory("sextant-extraction-fits")
    defer { try? FileManager.default.removeItem(at: directory) }
    let raw = directory.appendingPathComponent("pixels.f32")
    let shape = try TestSupport.python("""
        import sys, warnings
        warnings.simplefilter("ignore")
        import numpy as np
        from astropy.io import fits
        with fits.open(sys.argv[1], do_not_scale_image_data=True) as hdul:
            hdu = hdul[0]
            d = hdu.data.astype(np.float64) * float(hdu.header.get("BSCALE", 1.0)) + float(hdu.header.get("BZERO", 0.0))
        d = np.ascontiguousarray(d.astype(np.float32))
        d.tofile(sys.argv[2])
        print(d.shape[1], d.shape[0])
        """, arguments: [url.path, raw.path])
    let dimensions = shape.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
    let pixels = try PythonReference.readRaw(Float.self, raw)
    return try SkyImage(width: dimensions[0], height: dimensions[1], pixels: pixels,
                        label: label ?? url.lastPathComponent)
}

/// SExtractor's ASCII catalog (image.cat): rows of numbers under "#" column headers.
struct SExtractorASCIICatalog {
    let columns: [String]
    let rows: [[Double]]

    init(contentsOf url: URL) throws {
        var columns: [String] = []
        var rows: [[Double]] = []
        for line in try String(contentsOf: url, encoding: .utf8).split(separator: "\n") {
            let fields = line.split(whereSeparator: \.isWhitespace)
            if line.hasPrefix("#") {
                // "#  18 FLUX_RADIUS ..." spans columns 18..20 when the next header says 21.
                if fields.count >= 3, let index = Int(fields[1]) {
                    while columns.count < index - 1 { columns.append(columns.last ?? "") }
                    columns.append(String(fields[2]))
                }
            } else if !fields.isEmpty {
                rows.append(fields.compactMap { Double($0) })
            }
        }
        self.columns = columns
        self.rows = rows
    }

    /// The first column with this name.
    func column(_ name: String) -> [Double] {
        let index = columns.firstIndex(of: name)!
        return rows.map { $0[index] }
    }
}
