import Foundation

/// A recipe for a deterministic SDSS-like frame: what `sextant datasets generate` writes
/// and what the tests, the demo and the benchmarks run on.
public struct FrameRecipe: Codable, Equatable, Sendable {
    public var width = 2048
    public var height = 1489
    public var seed: UInt64 = 1
    public var stars = 2100
    public var galaxies = 350
    public var cosmicRays = 40
    /// Sky level in counts at the frame's centre; a gradient of ±10 % runs across it.
    public var sky = 120.0
    public var readNoise = 5.0
    /// PSF full width at half maximum in pixels (SDSS: ~1.4" at 0.396"/px).
    public var seeingFWHM = 3.5
    public var saturation = 60_000.0

    public init() {}

    public init(width: Int, height: Int, seed: UInt64) {
        self.width = width
        self.height = height
        self.seed = seed
        // Keep SDSS's source density when the frame is smaller or larger.
        let scale = Double(width * height) / Double(2048 * 1489)
        stars = Int((2100 * scale).rounded())
        galaxies = Int((350 * scale).rounded())
        cosmicRays = max(1, Int((40 * scale).rounded()))
    }
}

/// Renders a frame from a recipe: a sky gradient, Moffat-profile stars, exponential-disk
/// galaxies, one saturated star, a bad column, cosmic rays, then Poisson and read noise.
public enum SyntheticFrame {
    public static func render(_ recipe: FrameRecipe) -> [Float] {
        let width = recipe.width, height = recipe.height
        var rng = RandomSource(seed: recipe.seed)
        var flux = [Double](repeating: 0, count: width * height)

        // Sky with a gentle gradient, as flat-fielded survey frames have.
        for y in 0..<height {
            let gy = Double(y) / Double(max(height - 1, 1)) - 0.5
            for x in 0..<width {
                let gx = Double(x) / Double(max(width - 1, 1)) - 0.5
                flux[y * width + x] = recipe.sky * (1 + 0.15 * gx + 0.05 * gy)
            }
        }

        var canvas = Canvas(width: width, height: height, values: flux)
        for _ in 0..<recipe.stars {
            let total = rng.powerLaw(slope: -1.8, lo: 300, hi: 400_000)
            canvas.addMoffat(x: rng.uniform(0...Double(width - 1)), y: rng.uniform(0...Double(height - 1)),
                             total: total, fwhm: recipe.seeingFWHM)
        }
        for _ in 0..<recipe.galaxies {
            let total = rng.powerLaw(slope: -1.6, lo: 2_000, hi: 300_000)
            canvas.addExponentialDisk(x: rng.uniform(0...Double(width - 1)), y: rng.uniform(0...Double(height - 1)),
                                      total: total, scaleLength: rng.uniform(1.5...6),
                                      axisRatio: rng.uniform(0.3...1), angle: rng.uniform(0...Double.pi),
                                      seeing: recipe.seeingFWHM)
        }
        // One bright star that saturates its core, as almost every real frame has.
        canvas.addMoffat(x: Double(width) * 0.3, y: Double(height) * 0.6, total: 4e7, fwhm: recipe.seeingFWHM)
        flux = canvas.values

        // Photon and read noise, then the detector's defects.
        var pixels = [Float](repeating: 0, count: width * height)
        for i in 0..<pixels.count {
            let counts = rng.poisson(flux[i]) + recipe.readNoise * rng.gaussian()
            pixels[i] = Float(min(counts, recipe.saturation))
        }
        let badColumn = width / 3 + 7
        for y in 0..<height { pixels[y * width + badColumn] = Float(recipe.sky * 0.1) }
        for _ in 0..<recipe.cosmicRays {
            var x = Int(rng.uniform() * Double(width)), y = Int(rng.uniform() * Double(height))
            let length = 1 + Int(rng.uniform() * 4), energy = rng.uniform(2_000...20_000)
            for _ in 0..<length where x < width && y < height {
                pixels[y * width + x] += Float(energy)
                if rng.uniform() < 0.5 { x += 1 } else { y += 1 }
            }
        }
        return pixels
    }
}

/// A double-precision accumulation buffer that sources are painted into before noise.
struct Canvas {
    let width: Int, height: Int
    var values: [Double]

    /// A Moffat profile (beta 3), the usual model of a ground-based PSF, normalised to `total`.
    mutating func addMoffat(x: Double, y: Double, total: Double, fwhm: Double) {
        let beta = 3.0
        let alpha = fwhm / (2 * (pow(2, 1 / beta) - 1).squareRoot())
        let norm = total * (beta - 1) / (.pi * alpha * alpha)
        let radius = Int(min(40, max(6, alpha * pow(total / 20, 1 / (2 * beta - 1)))))
        paint(x: x, y: y, radius: radius) { dx, dy in
            norm * pow(1 + (dx * dx + dy * dy) / (alpha * alpha), -beta)
        }
    }

    /// An inclined exponential disk, blurred crudely by adding the seeing in quadrature.
    mutating func addExponentialDisk(x: Double, y: Double, total: Double, scaleLength: Double,
                                     axisRatio: Double, angle: Double, seeing: Double) {
        let h = (scaleLength * scaleLength + (seeing / 2.355) * (seeing / 2.355)).squareRoot()
        let norm = total / (2 * .pi * h * h * axisRatio)
        let c = cos(angle), s = sin(angle)
        paint(x: x, y: y, radius: Int(min(60, 7 * h))) { dx, dy in
            let u = dx * c + dy * s, v = (-dx * s + dy * c) / axisRatio
            return norm * exp(-(u * u + v * v).squareRoot() / h)
        }
    }

    private mutating func paint(x: Double, y: Double, radius: Int, profile: (Double, Double) -> Double) {
        let cx = Int(x.rounded()), cy = Int(y.rounded())
        for py in max(0, cy - radius)...min(height - 1, cy + radius) {
            for px in max(0, cx - radius)...min(width - 1, cx + radius) {
                values[py * width + px] += profile(Double(px) - x, Double(py) - y)
            }
        }
    }
}
