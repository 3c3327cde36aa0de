import FITS
import Foundation
import Storage

/// Opens an input image wherever it lives. Local paths go straight to CFITSIO (which also
/// reads .gz and .fz); objects in a store are read into memory and opened from there, or,
/// above `sextant.input.spoolThreshold` bytes, spooled to a temporary file first so a
/// huge object does not have to fit in memory twice.
enum ImageLoader {
    static let defaultSpoolThreshold = 512 << 20

    static func load(_ uri: String, hdu: HDUSelection, stores: StoreCache,
                     settings: [String: String]) throws -> FITSImage {
        guard uri.contains("://"), !uri.hasPrefix("file://") else {
            let path = uri.hasPrefix("file://") ? String(uri.dropFirst("file://".count)) : uri
            return try FITSImage(contentsOfFile: path, hdu: hdu)
        }
        let (store, key, _) = try stores.storeAndKey(for: uri, settings: settings)
        let threshold = settings["sextant.input.spoolThreshold"].flatMap(Int.init) ?? defaultSpoolThreshold
        if let size = try store.head(key)?.size, size > threshold {
            let spool = FileManager.default.temporaryDirectory
                .appendingPathComponent("sextant-spool-\(UUID().uuidString)-" + (uri as NSString).lastPathComponent)
            defer { try? FileManager.default.removeItem(at: spool) }
            try store.download(key, to: spool)
            return try FITSImage(contentsOfFile: spool.path, hdu: hdu)
        }
        return try FITSImage(data: try store.get(key), name: uri, hdu: hdu)
    }
}
