import Foundation
import HEALPix

/// One detection of a source in one frame's catalog.
public struct Detection: Codable, Hashable, Sendable {
    /// Degrees (ICRS), from the frame's WCS.
    public var ra: Double
    public var dec: Double
    /// The frame (its catalog) the detection comes from.
    public var frame: String
    /// How far the detection lies from its frame's centre; only compared, so any unit does
    /// (pixels, degrees), as long as every frame uses the same one.
    public var distanceToFrameCenter: Double
    /// The detection's row in its frame's catalog.
    public var row: Int

    public init(ra: Double, dec: Double, frame: String, distanceToFrameCenter: Double, row: Int) {
        self.ra = ra
        self.dec = dec
        self.frame = frame
        self.distanceToFrameCenter = distanceToFrameCenter
        self.row = row
    }
}

/// One source of the merged sky catalog: the detection chosen to represent it and how many
/// frames saw it (NDETECT).
public struct MergedSource: Codable, Hashable, Sendable {
    public var primary: Detection
    public var detectionCount: Int
    /// The tile (HEALPix pixel) that owns it: the one containing the primary detection.
    public var tile: Int64
}

/// The per-tile merge of detections from overlapping frames, as pure functions.
///
/// Detections are keyed by the HEALPix pixel (nested, `sky.order`) of their own position.
/// So that a source whose detections straddle a tile edge is seen whole, each detection is
/// also sent to every tile within twice the match radius of it (`tiles(for:)`: a margin, like
/// LSDB's margin caches). `merge(tile:detections:)` then groups the tile's and its margin's
/// detections and keeps a group only if its primary lies in the tile: every source belongs to
/// exactly one tile, however its detections fall.
///
/// Grouping and the primary rule: detections are taken best first, best meaning nearest its
/// own frame's centre (then frame name, then row, so ties are deterministic; like Rubin's
/// isPrimary, the detection from the frame that covers the source most centrally wins). Each
/// untaken detection becomes a primary and takes, from every other frame, the nearest untaken
/// detection within the match radius. A frame gives at most one detection to a source: two
/// detections of one frame within the radius are two sources.
///
/// Exact while sources are more than two match radii apart (a grouping decided in one tile
/// depends only on detections within 2 radii, all of which its margin holds).
public struct TileMerge: Sendable {
    public let sky: HEALPix
    /// Degrees.
    public let matchRadius: Double

    /// `matchRadius` in degrees; it must be small next to a tile (4 radii under its side) so
    /// the margin reaches only neighbouring tiles.
    public init(sky: HEALPix, matchRadius: Double) throws {
        guard matchRadius > 0, 4 * matchRadius < sky.resolution else {
            throw TileMergeError.radiusTooLarge(radius: matchRadius, tileSide: sky.resolution)
        }
        self.sky = sky
        self.matchRadius = matchRadius
        let radians = matchRadius * .pi / 180
        squaredChordRadius = pow(2 * sin(radians / 2), 2)
        // Vertices of polygons circumscribing the circles of one and two radii, so the circles are covered.
        samples = [(1.0, 8), (2.0, 16)].flatMap { radius, points -> [MarginSample] in
            let reach = radius * radians / cos(.pi / Double(points))
            return (0..<points).map { step in
                let bearing = Double(step) * 2 * .pi / Double(points)
                return MarginSample(cosDistance: cos(reach), sinDistance: sin(reach),
                                    cosBearing: cos(bearing), sinBearing: sin(bearing))
            }
        }
    }

    /// The squared chord of the match radius on the unit sphere.
    private let squaredChordRadius: Double
    private let samples: [MarginSample]

    /// One point of the margin's sampling: its distance from the detection and bearing (east of north).
    private struct MarginSample: Sendable {
        var cosDistance, sinDistance, cosBearing, sinBearing: Double
    }

    /// The tiles `detection` must be sent to: its own and every tile within two match radii,
    /// found by sampling the circles of one and two radii around it. Sorted.
    public func tiles(for detection: Detection) -> [Int64] {
        let p = SkyVector(ra: detection.ra, dec: detection.dec)
        var tiles: [Int64] = [tile(of: p)]
        // The samples from the detection's unit vector and its east and north tangents: the
        // circles' trig is in `samples`, once per merge, not per detection.
        let (east, north) = p.tangents
        for sample in samples {
            let u = sample.cosBearing * sample.sinDistance, v = sample.sinBearing * sample.sinDistance
            let pixel = sky.pixel(x: sample.cosDistance * p.x + u * north.x + v * east.x,
                                  y: sample.cosDistance * p.y + u * north.y + v * east.y,
                                  z: sample.cosDistance * p.z + u * north.z + v * east.z)
            if !tiles.contains(pixel) { tiles.append(pixel) }  // a handful: cheaper than a Set
        }
        return tiles.sorted()
    }

    /// The tile a position belongs to: the one function both the fan-out (a detection's own
    /// tile) and the merge (which tile owns a source) use, so they can never disagree.
    func tile(of position: SkyVector) -> Int64 { sky.pixel(x: position.x, y: position.y, z: position.z) }

    /// The sources owned by `tile`, from the detections sent to it (its own and its margin's),
    /// in the order of their primaries' rank. The result does not depend on input order.
    public func merge(tile: Int64, detections: [Detection]) -> [MergedSource] {
        let ranked = detections.sorted(by: Self.ranksBefore)
        let vectors = ranked.map { SkyVector(ra: $0.ra, dec: $0.dec) }  // once each, not per pair
        let index = DeclinationStrips(ranked, width: matchRadius)
        var taken = [Bool](repeating: false, count: ranked.count)
        var sources: [MergedSource] = []
        for (i, primary) in ranked.enumerated() where !taken[i] {
            taken[i] = true
            // Nearest by chord: the same order as by angle, without the arcsine.
            var nearest: [String: (index: Int, chord: Double)] = [:]
            for j in index.candidates(near: primary.dec) where !taken[j] && ranked[j].frame != primary.frame {
                let chord = vectors[i].squaredChord(to: vectors[j])
                guard chord <= squaredChordRadius else { continue }
                let frame = ranked[j].frame
                if nearest[frame].map({ chord < $0.chord }) ?? true { nearest[frame] = (j, chord) }
            }
            for member in nearest.values { taken[member.index] = true }
            if self.tile(of: vectors[i]) == tile {
                sources.append(MergedSource(primary: primary, detectionCount: 1 + nearest.count, tile: tile))
            }
        }
        return sources
    }

    /// The primary rule: nearest its own frame's centre, then frame name, row and position.
    static func ranksBefore(_ a: Detection, _ b: Detection) -> Bool {
        if a.distanceToFrameCenter != b.distanceToFrameCenter { return a.distanceToFrameCenter < b.distanceToFrameCenter }
        if a.frame != b.frame { return a.frame < b.frame }
        if a.row != b.row { return a.row < b.row }
        return (a.ra, a.dec) < (b.ra, b.dec)
    }
}

/// A position as a unit vector (x toward ra 0 on the equator, z toward the north pole).
struct SkyVector {
    var x, y, z: Double

    init(ra: Double, dec: Double) {
        let alpha = ra * .pi / 180, delta = dec * .pi / 180
        let cosDelta = cos(delta)
        x = cosDelta * cos(alpha)
        y = cosDelta * sin(alpha)
        z = sin(delta)
    }

    init(x: Double, y: Double, z: Double) {
        self.x = x
        self.y = y
        self.z = z
    }

    /// Unit vectors east and north along the sphere here (east is the +ra direction; both
    /// defined at the poles too, by the right ascension given).
    var tangents: (east: SkyVector, north: SkyVector) {
        let horizontal = (x * x + y * y).squareRoot()
        let (cosAlpha, sinAlpha) = horizontal > 0 ? (x / horizontal, y / horizontal) : (1.0, 0.0)
        return (SkyVector(x: -sinAlpha, y: cosAlpha, z: 0),
                SkyVector(x: -z * cosAlpha, y: -z * sinAlpha, z: horizontal))
    }

    func squaredChord(to other: SkyVector) -> Double {
        let dx = x - other.x, dy = y - other.y, dz = z - other.z
        return dx * dx + dy * dy + dz * dz
    }
}

/// Detections bucketed by declination in strips one match radius wide: a detection's matches
/// lie in its own strip or the two beside it.
private struct DeclinationStrips {
    private var strips: [Int: [Int]] = [:]
    private let width: Double

    init(_ detections: [Detection], width: Double) {
        self.width = width
        for (index, detection) in detections.enumerated() {
            strips[strip(detection.dec), default: []].append(index)
        }
    }

    private func strip(_ dec: Double) -> Int { Int((dec / width).rounded(.down)) }

    func candidates(near dec: Double) -> [Int] {
        let centre = strip(dec)
        return (centre - 1...centre + 1).flatMap { strips[$0] ?? [] }
    }
}

public enum TileMergeError: Error, CustomStringConvertible, Equatable {
    case radiusTooLarge(radius: Double, tileSide: Double)

    public var description: String {
        switch self {
        case let .radiusTooLarge(radius, side):
            return String(format: "match radius %.3g arcsec must be positive and under a quarter of the tile side "
                          + "(%.3g arcsec at this order): choose a lower order", radius * 3600, side * 3600)
        }
    }
}
