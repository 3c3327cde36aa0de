import Engine
import FITS
import Foundation
import Storage

/// Opens an input image wherever it lives. Local paths go straight to CFITSIO (which also
/// reads .gz and .fz); objects in a store are read into memory and opened from there, or,
/// above `sextant.input.spoolThreshold` bytes (default 512 MiB), spooled to a temporary
/// file first, so a huge object does not have to fit in memory twice.
enum ImageLoader {
    static func load(_ input: InputFile, hdu: HDUSelection, stores: StoreCache,
                     settings: [String: String]) throws -> FITSImage {
        let uri = input.uri
        guard uri.contains("://"), !uri.hasPrefix("file://") else {
            let path = uri.hasPrefix("file://") ? String(uri.dropFirst("file://".count)) : uri
            return try FITSImage(contentsOfFile: path, hdu: hdu)
        }
        let (store, key, _) = try stores.storeAndKey(for: uri, settings: settings)
        let threshold = Int(try Configuration(settings).value(of: StorageKeys.spoolThreshold))
        // The listing already gave the size: a small object is one GET, with no HEAD first.
        if input.size > 0, input.size < threshold {
            return try FITSImage(data: try store.get(key), name: uri, hdu: hdu)
        }
        let object = try store.fetch(key, spoolThreshold: threshold)
        defer { object.discard() }
        switch object {
        case .memory(let data): return try FITSImage(data: data, name: uri, hdu: hdu)
        case .spooled(let file), .localFile(let file): return try FITSImage(contentsOfFile: file.path, hdu: hdu)
        }
    }
}
