import FITS
import Foundation
import Storage

/// Opens an input image wherever it lives. Local paths go straight to CFITSIO (which also
/// reads .gz and .fz); objects in a store are read into memory and opened from there, or,
/// above `sextant.input.spoolThreshold` bytes (default 512 MiB), spooled to a temporary
/// file first, so a huge object does not have to fit in memory twice.
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
        let object = try store.fetch(key, spoolThreshold: threshold)
        defer { object.discard() }
        switch object {
        case .memory(let data): return try FITSImage(data: data, name: uri, hdu: hdu)
        case .spooled(let file), .localFile(let file): return try FITSImage(contentsOfFile: file.path, hdu: hdu)
        }
    }
}
