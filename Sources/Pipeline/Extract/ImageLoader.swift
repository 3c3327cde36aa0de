import Engine
import FITS
import Foundation
import Storage

/// Opens an input image wherever it lives. Local paths go straight to CFITSIO (which also
/// reads .gz and .fz); objects in a store are read into memory and opened from there, or,
/// above `sextant.input.spoolThreshold` bytes (default 512 MiB), spooled to a temporary
/// file first, so a huge object does not have to fit in memory twice.
enum ImageLoader {
    /// An input fetched once, whose HDUs are then read one at a time.
    final class OpenedInput {
        private enum Backing {
            case path(String)
            case memory(Data)
            case fetched(FetchedObject)
        }

        private let backing: Backing
        let uri: String

        fileprivate init(path: String, uri: String) { backing = .path(path); self.uri = uri }
        fileprivate init(data: Data, uri: String) { backing = .memory(data); self.uri = uri }
        fileprivate init(object: FetchedObject, uri: String) { backing = .fetched(object); self.uri = uri }

        deinit { if case .fetched(let object) = backing { object.discard() } }

        func image(_ hdu: HDUSelection) throws -> FITSImage {
            switch backing {
            case .path(let path): return try FITSImage(contentsOfFile: path, hdu: hdu)
            case .memory(let data): return try FITSImage(data: data, name: uri, hdu: hdu)
            case .fetched(.memory(let data)): return try FITSImage(data: data, name: uri, hdu: hdu)
            case .fetched(.spooled(let file)), .fetched(.localFile(let file)):
                return try FITSImage(contentsOfFile: file.path, hdu: hdu)
            }
        }

        /// Every HDU holding an image (headers only).
        func imageHDUs() throws -> [Int] {
            switch backing {
            case .path(let path): return try FITSImage.imageHDUs(contentsOfFile: path)
            case .memory(let data): return try FITSImage.imageHDUs(data: data, name: uri)
            case .fetched(.memory(let data)): return try FITSImage.imageHDUs(data: data, name: uri)
            case .fetched(.spooled(let file)), .fetched(.localFile(let file)):
                return try FITSImage.imageHDUs(contentsOfFile: file.path)
            }
        }
    }

    static func open(_ input: InputFile, stores: StoreCache, settings: [String: String]) throws -> OpenedInput {
        let uri = input.uri
        guard uri.contains("://"), !uri.hasPrefix("file://") else {
            let path = uri.hasPrefix("file://") ? String(uri.dropFirst("file://".count)) : uri
            return OpenedInput(path: path, uri: uri)
        }
        let (store, key, _) = try stores.storeAndKey(for: uri, settings: settings)
        let threshold = Int(try Configuration(settings).value(of: StorageKeys.spoolThreshold))
        // The listing already gave the size: a small object is one GET, with no HEAD first.
        if input.size > 0, input.size < threshold {
            return OpenedInput(data: try store.get(key), uri: uri)
        }
        return OpenedInput(object: try store.fetch(key, spoolThreshold: threshold), uri: uri)
    }

    static func load(_ input: InputFile, hdu: HDUSelection, stores: StoreCache,
                     settings: [String: String]) throws -> FITSImage {
        try open(input, stores: stores, settings: settings).image(hdu)
    }
}
