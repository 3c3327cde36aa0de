import Foundation

/// A detection filter kernel: `height` rows of `width` weights, row-major.
///
/// SEP always divides the kernel by the sum of its absolute values before convolving
/// (extract.c, "normalize the filter"), so `normalize` is kept only to record what a
/// SExtractor .conv file asked for: a "CONV NONORM" kernel cannot be used unnormalized.
public struct FilterKernel: Codable, Equatable, Sendable {
    public var width: Int
    public var height: Int
    public var weights: [Float]
    public var normalize: Bool

    public init(width: Int, height: Int, weights: [Float], normalize: Bool = true) throws {
        guard width > 0, height > 0, weights.count == width * height else {
            throw ExtractionError.invalidParameter(
                "filter kernel of \(weights.count) weights is not \(width)x\(height)")
        }
        guard weights.contains(where: { $0 != 0 }), weights.allSatisfy(\.isFinite) else {
            throw ExtractionError.invalidParameter("filter kernel needs finite, not all zero weights")
        }
        self.width = width
        self.height = height
        self.weights = weights
        self.normalize = normalize
    }

    /// SExtractor's default.conv: the 3x3 [1 2 1; 2 4 2; 1 2 1] kernel (Python sep's default).
    public static let sextractorDefault = try! FilterKernel(
        width: 3, height: 3, weights: [1, 2, 1, 2, 4, 2, 1, 2, 1])

    /// Parses SExtractor's .conv format: a "CONV NORM" or "CONV NONORM" first line,
    /// "#" comment lines, then rows of numbers of equal length.
    public static func parseConv(_ text: String, source: String = ".conv") throws -> FilterKernel {
        var normalize: Bool?
        var rows: [[Float]] = []
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
                .first.map(String.init)?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            if line.isEmpty { continue }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," })
            if normalize == nil {
                let header = fields.map { $0.uppercased() }
                guard header.first == "CONV", header.count == 2,
                      header[1] == "NORM" || header[1] == "NONORM" else {
                    throw ExtractionError.invalidParameter(
                        "\(source): line \(number + 1): expected \"CONV NORM\" or \"CONV NONORM\", found \"\(line)\"")
                }
                normalize = header[1] == "NORM"
                continue
            }
            var row: [Float] = []
            for field in fields {
                guard let value = Float(field) else {
                    throw ExtractionError.invalidParameter(
                        "\(source): line \(number + 1): \"\(field)\" is not a number")
                }
                row.append(value)
            }
            if let first = rows.first, first.count != row.count {
                throw ExtractionError.invalidParameter(
                    "\(source): line \(number + 1): \(row.count) values, earlier rows have \(first.count)")
            }
            rows.append(row)
        }
        guard let normalize else {
            throw ExtractionError.invalidParameter("\(source): empty filter file")
        }
        guard let width = rows.first?.count else {
            throw ExtractionError.invalidParameter("\(source): no kernel rows after the CONV line")
        }
        do {
            return try FilterKernel(width: width, height: rows.count,
                                    weights: rows.flatMap { $0 }, normalize: normalize)
        } catch let error as ExtractionError {
            throw ExtractionError.invalidParameter("\(source): \(error.description)")
        }
    }

    /// Reads and parses a .conv file.
    public static func load(contentsOf url: URL) throws -> FilterKernel {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw ExtractionError.invalidParameter("cannot read filter file \(url.path): \(error.localizedDescription)")
        }
        return try parseConv(text, source: url.path)
    }
}
