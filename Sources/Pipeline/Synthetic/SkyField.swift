import FITS
import Foundation

/// Overlapping frames over one fixed truth sky, each with a TAN WCS: what the sky merge's
/// tests and benchmark run on, so duplicates and misses can be counted against the truth.
///
/// The field is a grid of `columns` x `rows` pointings around (ra, dec), neighbours sharing
/// `overlap` of a frame's side. Stars are at least `minimumSeparation` apart (so each merged
/// group is one star) and bright enough that SEP finds every one away from the frame edges.
public struct SkyFieldRecipe: Codable, Equatable, Sendable {
    public var ra = 150.0
    public var dec = 2.0
    public var columns = 2
    public var rows = 2
    public var overlap = 0.3
    public var width = 400
    public var height = 400
    /// Arcseconds per pixel.
    public var pixelScale = 0.4
    /// Stars in the whole field.
    public var stars = 400
    /// Arcseconds.
    public var minimumSeparation = 8.0
    public var seed: UInt64 = 1

    public init() {}
}

/// One star of the truth sky.
public struct TruthStar: Codable, Equatable, Sendable {
    public var ra: Double
    public var dec: Double
    public var flux: Double
}

public struct SkyField: Sendable {
    public let recipe: SkyFieldRecipe
    public let truth: [TruthStar]
    /// Each frame's pointing (its CRVAL), frame i at `SkyField.fileName(i)`.
    public let pointings: [(ra: Double, dec: Double)]

    public init(_ recipe: SkyFieldRecipe) {
        self.recipe = recipe
        var rng = RandomSource(seed: recipe.seed)
        let scale = recipe.pixelScale / 3600
        let stepX = Double(recipe.width) * scale * (1 - recipe.overlap)
        let stepY = Double(recipe.height) * scale * (1 - recipe.overlap)
        let cosDec = cos(recipe.dec * .pi / 180)
        var pointings: [(ra: Double, dec: Double)] = []
        for row in 0..<recipe.rows {
            for column in 0..<recipe.columns {
                let dx = (Double(column) - Double(recipe.columns - 1) / 2) * stepX
                let dy = (Double(row) - Double(recipe.rows - 1) / 2) * stepY
                pointings.append((recipe.ra + dx / cosDec, recipe.dec + dy))
            }
        }
        self.pointings = pointings
        // Stars whose centre is outside a frame are not painted on it (Canvas paints whole stars).
        // Stars over the union of the frames, kept apart (a grid of cells makes the check O(1)).
        let halfX = (Double(recipe.columns - 1) * stepX + Double(recipe.width) * scale) / 2
        let halfY = (Double(recipe.rows - 1) * stepY + Double(recipe.height) * scale) / 2
        let separation = recipe.minimumSeparation / 3600
        var cells: [Int64: [TruthStar]] = [:]
        func cell(_ x: Double, _ y: Double) -> (Int64, Int64) { (Int64((x / separation).rounded(.down)), Int64((y / separation).rounded(.down))) }
        var truth: [TruthStar] = []
        var tries = 0
        while truth.count < recipe.stars && tries < recipe.stars * 50 {
            tries += 1
            let x = rng.uniform(-halfX...halfX), y = rng.uniform(-halfY...halfY)
            let flux = rng.powerLaw(slope: -1.5, lo: 20_000, hi: 400_000)
            let (cx, cy) = cell(x, y)
            let near = (-1...1).flatMap { i in (-1...1).flatMap { j in cells[(cx + i) << 32 ^ (cy + j)] ?? [] } }
            let star = TruthStar(ra: recipe.ra + x / cosDec, dec: recipe.dec + y, flux: flux)
            guard near.allSatisfy({ hypot(($0.ra - star.ra) * cosDec, $0.dec - star.dec) > separation }) else { continue }
            cells[cx << 32 ^ cy, default: []].append(star)
            truth.append(star)
        }
        self.truth = truth
    }

    public static func fileName(_ index: Int) -> String { String(format: "field-%03d.fits", index) }

    /// The 1-based pixel position of (ra, dec) in frame `index` (gnomonic projection about its
    /// pointing, north up, east left): the forward transform of the WCS its header declares.
    public func pixel(ra: Double, dec: Double, frame index: Int) -> (x: Double, y: Double)? {
        let (a0, d0) = (pointings[index].ra * .pi / 180, pointings[index].dec * .pi / 180)
        let (a, d) = (ra * .pi / 180, dec * .pi / 180)
        let cosc = sin(d0) * sin(d) + cos(d0) * cos(d) * cos(a - a0)
        guard cosc > 0 else { return nil }
        let xi = cos(d) * sin(a - a0) / cosc * 180 / .pi
        let eta = (cos(d0) * sin(d) - sin(d0) * cos(d) * cos(a - a0)) / cosc * 180 / .pi
        let scale = recipe.pixelScale / 3600
        return (crpix.x - xi / scale, crpix.y + eta / scale)
    }

    private var crpix: (x: Double, y: Double) { ((Double(recipe.width) + 1) / 2, (Double(recipe.height) + 1) / 2) }

    /// Writes every frame into `directory`; returns their paths.
    @discardableResult
    public func write(into directory: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return try pointings.indices.map { index in
            let path = directory + "/" + Self.fileName(index)
            try writer(frame: index).write(to: path)
            return path
        }
    }

    func writer(frame index: Int) -> FITSImageWriter {
        let (width, height) = (recipe.width, recipe.height)
        var canvas = Canvas(width: width, height: height, values: [Double](repeating: 100, count: width * height))
        for star in truth {
            guard let p = pixel(ra: star.ra, dec: star.dec, frame: index),
                  p.x >= 1, p.y >= 1, p.x <= Double(width), p.y <= Double(height) else { continue }
            canvas.addMoffat(x: p.x - 1, y: p.y - 1, total: star.flux, fwhm: 3)
        }
        var rng = RandomSource(seed: recipe.seed &+ 1000 &+ UInt64(index))
        let pixels = canvas.values.map { Float(rng.poisson($0) + 5 * rng.gaussian()) }
        let scale = recipe.pixelScale / 3600
        let keywords: [FITSCard] = [
            .string("OBJECT", "sky field frame \(index)", comment: "Sextant synthetic sky field"),
            .double("GAIN", 1, comment: "[e-/count]"),
            .string("CTYPE1", "RA---TAN"), .string("CTYPE2", "DEC--TAN"),
            .double("CRVAL1", pointings[index].ra), .double("CRVAL2", pointings[index].dec),
            .double("CRPIX1", crpix.x), .double("CRPIX2", crpix.y),
            .double("CD1_1", -scale), .double("CD1_2", 0), .double("CD2_1", 0), .double("CD2_2", scale),
            .string("CUNIT1", "deg"), .string("CUNIT2", "deg"),
            .string("RADESYS", "ICRS"), .double("EQUINOX", 2000),
        ]
        return FITSImageWriter(width: width, height: height, pixels: .float32(pixels), keywords: keywords)
    }
}
