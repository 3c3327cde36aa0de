import Foundation

/// An object brought to this node: in memory when small, else in a file FITS readers can open.
public enum FetchedObject {
    /// The whole object in memory.
    case memory(Data)
    /// A temporary copy that belongs to the caller: `discard()` removes it.
    case spooled(URL)
    /// The object's own file in a LocalStore, read in place: `discard()` leaves it alone.
    case localFile(URL)

    /// The file to open, when the object is in a file.
    public var fileURL: URL? {
        switch self {
        case .memory: return nil
        case .spooled(let url), .localFile(let url): return url
        }
    }

    /// Removes a spooled copy; does nothing otherwise.
    public func discard() {
        if case .spooled(let url) = self { try? FileManager.default.removeItem(at: url) }
    }
}

extension ObjectStore {
    /// Reads `key` into memory when it is smaller than `spoolThreshold` bytes, else copies it to a
    /// temporary file in `temporaryDirectory` in ranged reads of `chunkSize` bytes (so memory stays
    /// bounded). A LocalStore object above the threshold is handed over as its own file.
    public func fetch(_ key: String, spoolThreshold: Int,
                      temporaryDirectory: URL = FileManager.default.temporaryDirectory,
                      chunkSize: Int = 8 << 20) throws -> FetchedObject {
        guard let metadata = try head(key) else {
            throw StorageError(.notFound, location: location(of: key).description, message: "no such object")
        }
        if metadata.size < spoolThreshold { return .memory(try get(key)) }
        if let local = self as? LocalStore { return .localFile(URL(fileURLWithPath: try local.path(for: key))) }
        let name = key.split(separator: "/").last.map(String.init) ?? "object"
        let file = temporaryDirectory.appendingPathComponent("sextant-\(UUID().uuidString.prefix(8))-\(name)")
        try download(key, size: metadata.size, to: file, chunkSize: chunkSize)
        return .spooled(file)
    }

    /// Copies `key` (of `size` bytes) to the local `file` in ranged reads.
    public func download(_ key: String, size: Int, to file: URL, chunkSize: Int = 8 << 20) throws {
        guard FileManager.default.createFile(atPath: file.path, contents: nil),
              let handle = FileHandle(forWritingAtPath: file.path) else {
            throw StorageError(.accessDenied, location: file.path, message: "cannot create file for download")
        }
        var complete = false
        defer {
            try? handle.close()
            if !complete { try? FileManager.default.removeItem(at: file) }
        }
        var offset = 0
        while offset < size {
            let chunk = try get(key, range: offset..<min(size, offset + chunkSize))
            guard !chunk.isEmpty else {
                throw StorageError(.io, location: location(of: key).description,
                                   message: "object ended at \(offset) bytes, expected \(size)")
            }
            do { try handle.write(contentsOf: chunk) } catch {
                throw StorageError(.io, location: file.path, message: "write: \(error.localizedDescription)")
            }
            offset += chunk.count
        }
        complete = true
    }
}
