import Engine
import Foundation

/// Statistics of one frame's pixels: the sky level and noise by iterative sigma clipping
/// (so that stars do not bias them), plus the raw extremes.
struct SkyStatistics: Codable {
    var file: String
    var pixels: Int
    var minimum: Double
    var maximum: Double
    var mean: Double
    var skyLevel: Double
    var skyNoise: Double
    /// Pixels more than `threshold` noise above the sky: a crude count of source pixels.
    var brightPixels: Int
    /// Where it was measured (`local`, or the executor's id on a cluster).
    var executor: String
}

/// Reads a frame stored as text (one row of whitespace-separated numbers per line)
/// and measures its sky. Registered by name, so driver and executors agree on it.
struct MeasureSky: MapOperator {
    struct Parameters: Codable {
        var clipSigma = 3.0
        var iterations = 5
        var threshold = 5.0
    }

    typealias Input = String
    typealias Output = SkyStatistics
    static let name = "skystats.measure-sky"

    let parameters: Parameters

    init(parameters: Parameters) throws {
        guard parameters.clipSigma > 0, parameters.iterations > 0 else {
            throw SkyStatsError("clipSigma and iterations must be positive")
        }
        self.parameters = parameters
    }

    func map(_ path: String, context: TaskContext) throws -> SkyStatistics {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw SkyStatsError("\(path): cannot read: \(error.localizedDescription)")
        }
        var pixels: [Double] = []
        for (number, line) in text.split(separator: "\n").enumerated() {
            for field in line.split(separator: " ") {
                guard let value = Double(field) else {
                    throw SkyStatsError("\(path):\(number + 1): '\(field)' is not a number")
                }
                pixels.append(value)
            }
        }
        guard !pixels.isEmpty else { throw SkyStatsError("\(path): no pixels") }
        try context.checkCancellation()

        var clipped = pixels
        var (level, noise) = meanAndDeviation(clipped)
        for _ in 0..<parameters.iterations {
            let kept = clipped.filter { abs($0 - level) <= parameters.clipSigma * noise }
            if kept.count == clipped.count || kept.isEmpty { break }
            clipped = kept
            (level, noise) = meanAndDeviation(clipped)
        }
        return SkyStatistics(file: URL(fileURLWithPath: path).lastPathComponent, pixels: pixels.count,
                             minimum: pixels.min()!, maximum: pixels.max()!,
                             mean: pixels.reduce(0, +) / Double(pixels.count),
                             skyLevel: level, skyNoise: noise,
                             brightPixels: pixels.filter { $0 > level + parameters.threshold * noise }.count,
                             executor: context.executor)
    }

    private func meanAndDeviation(_ values: [Double]) -> (Double, Double) {
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
        return (mean, variance.squareRoot())
    }
}

struct SkyStatsError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
