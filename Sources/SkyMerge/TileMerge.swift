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
    }

    /// The tiles `detection` must be sent to: its own and every tile within two match radii,
    /// found by sampling the circles of one and two radii around it. Sorted.
    public func tiles(for detection: Detection) -> [Int64] {
        var tiles: Set<Int64> = [sky.pixel(ra: detection.ra, dec: detection.dec)]
        // Vertices of polygons circumscribing the circles, so the circles are covered.
        for (radius, points) in [(1.0, 8), (2.0, 16)] {
            let reach = radius * matchRadius / cos(.pi / Double(points))
            for step in 0..<points {
                let point = SkyGeometry.offset(ra: detection.ra, dec: detection.dec, distance: reach,
                                               bearing: Double(step) * 360 / Double(points))
                tiles.insert(sky.pixel(ra: point.ra, dec: point.dec))
            }
        }
        return tiles.sorted()
    }

    /// The sources owned by `tile`, from the detections sent to it (its own and its margin's),
    /// in the order of their primaries' rank. The result does not depend on input order.
    public func merge(tile: Int64, detections: [Detection]) -> [MergedSource] {
        let ranked = detections.sorted(by: Self.ranksBefore)
        let index = DeclinationStrips(ranked, width: matchRadius)
        var taken = [Bool](repeating: false, count: ranked.count)
        var sources: [MergedSource] = []
        for (i, primary) in ranked.enumerated() where !taken[i] {
            taken[i] = true
            var nearest: [String: (index: Int, separation: Double)] = [:]
            for j in index.candidates(near: primary.dec) where !taken[j] && ranked[j].frame != primary.frame {
                let separation = SkyGeometry.separation(ra1: primary.ra, dec1: primary.dec,
                                                        ra2: ranked[j].ra, dec2: ranked[j].dec)
                guard separation <= matchRadius else { continue }
                let frame = ranked[j].frame
                if nearest[frame].map({ separation < $0.separation }) ?? true { nearest[frame] = (j, separation) }
            }
            for member in nearest.values { taken[member.index] = true }
            if sky.pixel(ra: primary.ra, dec: primary.dec) == tile {
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
