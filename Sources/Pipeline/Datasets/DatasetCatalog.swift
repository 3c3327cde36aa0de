import Foundation

/// A named dataset from datasets.txt: a deterministic synthetic recipe or a list of URLs.
public struct NamedDataset: Equatable, Sendable {
    public enum Source: Equatable, Sendable {
        /// `count` frames made by SyntheticFrame from `recipe`, frame i with seed `recipe.seed + i`.
        case synthetic(count: Int, recipe: FrameRecipe, dtype: PixelType)
        /// A text file of URLs (one a line, optionally followed by a SHA-256), relative to datasets.txt.
        case urlList(path: String)
    }

    public var name: String
    public var source: Source
    public var description: String
}

/// How generated pixels are stored: float32 (SDSS "frame" files) or int16 with BSCALE/BZERO (raw-like, half the bytes).
public enum PixelType: String, Codable, Sendable {
    case float32, int16
}

public enum DatasetError: Error, CustomStringConvertible {
    case malformed(file: String, line: Int, reason: String)
    case unknown(String, known: [String])

    public var description: String {
        switch self {
        case .malformed(let file, let line, let reason): return "\(file):\(line): \(reason)"
        case .unknown(let name, let known): return "no dataset named \(name) (known: \(known.joined(separator: ", ")))"
        }
    }
}

/// Parses datasets.txt. One dataset a line:
///
///     NAME  synthetic  count=N [width=W height=H seed=S dtype=float32|int16 stars=N galaxies=N]  [# description]
///     NAME  urls       PATH                                                                       [# description]
public struct DatasetCatalog: Sendable {
    public var datasets: [NamedDataset]

    public init(datasets: [NamedDataset]) { self.datasets = datasets }

    public init(contentsOf path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try self.init(parsing: text, file: path)
    }

    public init(parsing text: String, file: String = "datasets.txt") throws {
        var datasets: [NamedDataset] = []
        for (index, rawLine) in text.components(separatedBy: .newlines).enumerated() {
            let parts = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
            let body = parts.first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
            let comment = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
            guard !body.isEmpty else { continue }
            let fields = body.split(whereSeparator: \.isWhitespace).map(String.init)
            guard fields.count >= 3 else {
                throw DatasetError.malformed(file: file, line: index + 1, reason: "expected NAME KIND ARGUMENTS")
            }
            let source: NamedDataset.Source
            switch fields[1] {
            case "synthetic":
                source = try Self.parseSynthetic(Array(fields.dropFirst(2)), file: file, line: index + 1)
            case "urls":
                source = .urlList(path: fields[2])
            default:
                throw DatasetError.malformed(file: file, line: index + 1,
                                             reason: "unknown kind \(fields[1]) (synthetic or urls)")
            }
            datasets.append(NamedDataset(name: fields[0], source: source, description: comment))
        }
        self.datasets = datasets
    }

    /// The path of a `urls` dataset's list: as written, or relative to the datasets.txt at `catalogFile`.
    public static func listPath(_ path: String, catalogFile: String) -> String {
        path.hasPrefix("/") ? path
            : URL(fileURLWithPath: catalogFile).deletingLastPathComponent().appendingPathComponent(path).path
    }

    public func dataset(named name: String) throws -> NamedDataset {
        guard let dataset = datasets.first(where: { $0.name == name }) else {
            throw DatasetError.unknown(name, known: datasets.map(\.name))
        }
        return dataset
    }

    private static func parseSynthetic(_ fields: [String], file: String, line: Int) throws -> NamedDataset.Source {
        var values: [String: String] = [:]
        for field in fields {
            let pair = field.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else {
                throw DatasetError.malformed(file: file, line: line, reason: "expected key=value, got \(field)")
            }
            values[pair[0]] = pair[1]
        }
        func integer(_ key: String) throws -> Int? {
            guard let text = values.removeValue(forKey: key) else { return nil }
            guard let value = Int(text), value >= 0 else {
                throw DatasetError.malformed(file: file, line: line, reason: "\(key) must be a whole number, got \(text)")
            }
            return value
        }
        guard let count = try integer("count") else {
            throw DatasetError.malformed(file: file, line: line, reason: "a synthetic dataset needs count=N")
        }
        var recipe = FrameRecipe(width: try integer("width") ?? 2048, height: try integer("height") ?? 1489,
                                 seed: UInt64(try integer("seed") ?? 1))
        if let stars = try integer("stars") { recipe.stars = stars }
        if let galaxies = try integer("galaxies") { recipe.galaxies = galaxies }
        let dtypeName = values.removeValue(forKey: "dtype") ?? "float32"
        guard let dtype = PixelType(rawValue: dtypeName) else {
            throw DatasetError.malformed(file: file, line: line, reason: "dtype must be float32 or int16, got \(dtypeName)")
        }
        if let unknown = values.keys.sorted().first {
            throw DatasetError.malformed(file: file, line: line, reason: "unknown key \(unknown)")
        }
        return .synthetic(count: count, recipe: recipe, dtype: dtype)
    }
}
