import Foundation

/// One image to process: where it is, the name its catalog takes, and its size
/// (for partitioning by bytes; 0 when unknown, as in a dry run of names).
public struct InputFile: Codable, Hashable, Sendable {
    /// A local path or an s3:// URI.
    public var uri: String
    /// The path the catalog is named after, relative to the input root it was found under.
    public var relativePath: String
    public var size: Int64

    public init(uri: String, relativePath: String, size: Int64 = 0) {
        self.uri = uri
        self.relativePath = relativePath
        self.size = size
    }

    /// `relativePath` without its image suffix (`ccd3/f.fits.gz` -> `ccd3/f`): what output names build on.
    private static let suffixesLongestFirst = InputListing.imageSuffixes.sorted { $0.count > $1.count }

    public static func stem(of relativePath: String) -> String {
        let lower = relativePath.lowercased()
        for suffix in suffixesLongestFirst where lower.hasSuffix(suffix) {
            return String(relativePath.dropLast(suffix.count))
        }
        return relativePath
    }

    /// What two catalogs collide on: `stem(of:)` of the path lowercased. A slice of the path
    /// itself when it has no uppercase ASCII and no other script (most do not): no copy an input.
    static func collisionKey(of relativePath: String) -> Substring {
        let plain = relativePath.utf8.allSatisfy { $0 < 0x80 && !(0x41...0x5A).contains($0) }
        let lower = plain ? relativePath : relativePath.lowercased()
        for suffix in suffixesLongestFirst where lower.hasSuffix(suffix) {
            return lower.dropLast(suffix.count)
        }
        return lower[...]
    }
}

public enum InputError: Error, CustomStringConvertible, Equatable {
    case notFound(String)
    case emptyList(String)
    case noImages(String)
    case unknownDataset(String, known: [String])
    case datasetNotMaterialized(String, directory: String)
    case duplicateName(String, first: String, second: String)
    case unreadable(String, reason: String)
    case unsafeName(String, reason: String)

    public var description: String {
        switch self {
        case .notFound(let path):
            return "\(path): no such file or directory"
        case .emptyList(let path):
            return "\(path): the list names no inputs"
        case .noImages(let path):
            return "\(path): no FITS images found (looked for *.fits, *.fit, *.fts, *.fits.gz, *.fz, *.fits.bz2)"
        case .unknownDataset(let name, let known):
            return "\(name): not a file, directory, glob or dataset name (datasets: \(known.joined(separator: ", ")))"
        case .datasetNotMaterialized(let name, let directory):
            return "dataset \(name): not generated or fetched yet (expected in \(directory)); run `sextant datasets generate \(name)` or `sextant datasets fetch \(name)`"
        case .duplicateName(let name, let first, let second):
            return "\(first) and \(second) would both write the catalog \(name) (names are compared without the image suffix and ignoring case); pass them from different directories or rename one"
        case .unreadable(let path, let reason):
            return "\(path): \(reason)"
        case .unsafeName(let path, let reason):
            return "\(path): refused: \(reason)"
        }
    }
}
