import Extraction
import FITS
import Foundation
import Logging
import WCS

/// Puts ALPHA_J2000 and friends on a catalog when its image has a celestial WCS.
enum SkyColumns {
    private static let logger = Logger(label: "sextant.wcs")
    private static let told = NSLock()
    nonisolated(unsafe) private static var toldAlready = false

    /// Sets the sky positions and returns what the SKYCOORD header card says: the frame they
    /// came from, or why there are none. An image without a WCS is reported once per process.
    static func attach(to catalog: inout Catalog, header: FITSHeader, input: String) -> String {
        do {
            let wcs = try WorldCoordinateSystem(headerRecords: header.records)
            catalog.setWorldPositions { x, y in wcs.skyPositions(x: x, y: y).map { ($0.alpha, $0.delta) } }
            return "J2000 from \(wcs.frame) (wcslib)"
        } catch {
            let first = told.withLock { () -> Bool in
                defer { toldAlready = true }
                return !toldAlready
            }
            if first {
                logger.notice("\(input): \(error); its catalog has no sky columns (ALPHA_J2000 ...); images like it are not reported again")
            }
            return "none: \(error)"
        }
    }
}
