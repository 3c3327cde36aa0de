import Foundation

/// One image to process: where it is, the name its catalog takes, and its size
/// (for partitioning by bytes; 0 when unknown, as in a dry run of names).
public struct InputFile: Codable, Hashable, Sendable {
    /// A local path or an s3:// URI.
    public var uri: String
    /// The path the catalog is named after, relative to the input root it was found under.
    public var relativePath: String
    public var size: Int64
    /// Set on the task of one HDU a split file handed back (`sextant.extract.splitHDUsAbove`): that
    /// task extracts only this image HDU, into its own catalog (`CatalogFormat.catalogName(for:hdu:)`).
    public var hdu: Int?
    /// With `hdu`: the file's SHA-256 as the task that split it computed it (when inputs are hashed),
    /// so each HDU's task records it without hashing the whole file again.
    public var sha256: String?

    public init(uri: String, relativePath: String, size: Int64 = 0, hdu: Int? = nil) {
        self.uri = uri
        self.relativePath = relativePath
        self.size = size
        self.hdu = hdu
    }

    /// `relativePath` without its image suffix (`ccd3/f.fits.gz` -> `ccd3/f`): what output names build on.
    private static let suffixesLongestFirst = InputListing.imageSuffixes.sorted { $0.count > $1.count }

    public static func stem(of relativePath: String) -> String {
        // Printable ASCII (most paths): the suffix compared by bytes, no lowercased copy. Several
        // calls an input at a 10^6-input resume (the catalog's name is made from it).
        if let stem = asciiStem(of: relativePath) { return stem }
        let lower = relativePath.lowercased()
        for suffix in suffixesLongestFirst where lower.hasSuffix(suffix) {
            return String(relativePath.dropLast(suffix.count))
        }
        return relativePath
    }

    private static let suffixBytesLongestFirst = suffixesLongestFirst.map { Array($0.utf8) }

    /// `stem(of:)` of a path of printable ASCII bytes (there a byte is a Character and lowercasing
    /// is per byte), nil for any other path.
    private static func asciiStem(of relativePath: String) -> String? {
        guard let matched = asciiSuffixLength(of: relativePath) else { return nil }
        guard matched > 0 else { return relativePath }
        return String(relativePath[..<relativePath.utf8.index(relativePath.utf8.endIndex, offsetBy: -matched)])
    }

    /// For a name of printable ASCII bytes, the length of the image suffix it ends with, in
    /// any case (0: none); nil for any other name. Over the string's own bytes when it has
    /// them contiguous (native strings do): this runs several times an input at a resume.
    static func asciiSuffixLength(of name: String) -> Int? {
        if let found = name.utf8.withContiguousStorageIfAvailable(asciiSuffixLength(in:)) { return found }
        var copy = name
        return copy.withUTF8(asciiSuffixLength(in:))
    }

    private static func asciiSuffixLength(in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        for byte in bytes where byte < 0x20 || byte >= 0x7F { return nil }
        for suffix in suffixBytesLongestFirst where suffix.count <= bytes.count {
            var position = bytes.count - suffix.count
            var matches = true
            for wanted in suffix {
                let byte = bytes[position]
                // Uppercase letters lowercased, as `lowercased()` does them.
                if (byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte) != wanted { matches = false; break }
                position += 1
            }
            if matches { return suffix.count }
        }
        return 0
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
