import HEALPix
import SkyMerge

/// A truth sky with sources exactly on tile edges and corners, seen in up to three
/// overlapping frames with 0.35" of scatter (every source in frame f0; f1 and f2 see 80 %).
struct SyntheticSky {
    static let arcsec = 1.0 / 3600
    var truth: (positions: [(ra: Double, dec: Double)], onEdges: Int)
    /// Each detection's row is its truth source's index.
    var detections: [(source: Int, detection: Detection)] = []

    init(sky: HEALPix, seed: UInt64) {
        let arcsec = Self.arcsec
        var random = SeededRandom(state: seed)
        truth = Self.makeTruth(sky: sky, random: &random)
        let frames = [("f0", (150.00, 2.00)), ("f1", (150.03, 2.01)), ("f2", (149.98, 2.03))]
        for (source, position) in truth.positions.enumerated() {
            for (index, frame) in frames.enumerated() where index == 0 || Double.random(in: 0..<1, using: &random) < 0.8 {
                let scatter = SkyGeometry.offset(ra: position.ra, dec: position.dec,
                                                 distance: Double.random(in: 0...0.35, using: &random) * arcsec,
                                                 bearing: Double.random(in: 0..<360, using: &random))
                let distance = SkyGeometry.separation(ra1: scatter.ra, dec1: scatter.dec, ra2: frame.1.0, dec2: frame.1.1)
                detections.append((source, Detection(ra: scatter.ra, dec: scatter.dec, frame: frame.0,
                                                     distanceToFrameCenter: distance, row: source)))
            }
        }
    }

    /// Sources on corners (centres of order-10 pixels are corners of order-11 tiles), on edges
    /// (found by bisection between neighbouring tiles) and inside tiles, at least 5" apart.
    static func makeTruth(sky: HEALPix, random: inout SeededRandom) -> (positions: [(ra: Double, dec: Double)], onEdges: Int) {
        let parent = try! HEALPix(order: sky.order - 1)
        var special: [(ra: Double, dec: Double)] = []
        var interior: [(ra: Double, dec: Double)] = []
        for _ in 0..<60 {
            let ra = Double.random(in: 149.95...150.05, using: &random), dec = Double.random(in: 1.95...2.05, using: &random)
            special.append(parent.center(of: parent.pixel(ra: ra, dec: dec)))
            special.append(edgePoint(sky: sky, from: (ra, dec), bearing: Double.random(in: 0..<360, using: &random)))
            interior.append((ra, dec))
        }
        var kept: [(ra: Double, dec: Double)] = []
        var onEdges = 0
        for (index, point) in (special + interior).enumerated()
        where kept.allSatisfy({ SkyGeometry.separation(ra1: $0.ra, dec1: $0.dec, ra2: point.ra, dec2: point.dec) > 5 * Self.arcsec }) {
            kept.append(point)
            if index < special.count { onEdges += 1 }
        }
        return (kept, onEdges)
    }

    /// Walks from `start` toward `bearing` until the tile changes, then bisects to the edge.
    static func edgePoint(sky: HEALPix, from start: (Double, Double), bearing: Double) -> (ra: Double, dec: Double) {
        let tile = sky.pixel(ra: start.0, dec: start.1)
        var inside = 0.0, outside = sky.resolution / 8
        while sky.pixel(ra: SkyGeometry.offset(ra: start.0, dec: start.1, distance: outside, bearing: bearing).ra,
                        dec: SkyGeometry.offset(ra: start.0, dec: start.1, distance: outside, bearing: bearing).dec) == tile {
            inside = outside
            outside += sky.resolution / 8
        }
        for _ in 0..<60 {
            let middle = (inside + outside) / 2
            let point = SkyGeometry.offset(ra: start.0, dec: start.1, distance: middle, bearing: bearing)
            if sky.pixel(ra: point.ra, dec: point.dec) == tile { inside = middle } else { outside = middle }
        }
        return SkyGeometry.offset(ra: start.0, dec: start.1, distance: inside, bearing: bearing)
    }
}
