import CHEALPix
import Foundation

/// HEALPix pixels of one order in the nested scheme, from Debian's libchealpix (its 64-bit
/// calls, so every order up to 29 works). Angles in degrees: right ascension, declination.
///
/// In the nested scheme a pixel's four children at the next order are 4p…4p+3, and the centre
/// of a pixel is the corner its four children share.
public struct HEALPix: Sendable, Hashable {
    public static let maxOrder = 29

    public let order: Int

    public init(order: Int) throws {
        guard (0...Self.maxOrder).contains(order) else { throw HEALPixError.badOrder(order) }
        self.order = order
    }

    public var nside: Int64 { Int64(1) << order }
    public var pixelCount: Int64 { 12 * nside * nside }

    /// The pixel that contains (ra, dec).
    public func pixel(ra: Double, dec: Double) -> Int64 {
        var pixel: Int64 = 0
        ang2pix_nest64(nside, (90 - dec) * .pi / 180, Self.normalized(ra) * .pi / 180, &pixel)
        return pixel
    }

    /// The pixel that contains the direction of (x, y, z) (x toward ra 0 on the equator, z toward
    /// the north pole; any length but zero): no trig for a position already a vector.
    public func pixel(x: Double, y: Double, z: Double) -> Int64 {
        var pixel: Int64 = 0
        var vector = (x, y, z)  // a tuple of Doubles is laid out as the C array; no heap allocation
        withUnsafePointer(to: &vector) {
            $0.withMemoryRebound(to: Double.self, capacity: 3) { vec2pix_nest64(nside, $0, &pixel) }
        }
        return pixel
    }

    /// The centre of `pixel`, as (ra, dec).
    public func center(of pixel: Int64) -> (ra: Double, dec: Double) {
        precondition((0..<pixelCount).contains(pixel), "pixel \(pixel) out of 0..<\(pixelCount)")
        var theta = 0.0, phi = 0.0
        pix2ang_nest64(nside, pixel, &theta, &phi)
        return (phi * 180 / .pi, 90 - theta * 180 / .pi)
    }

    /// The typical pixel side, in degrees (sqrt of the pixel area).
    public var resolution: Double { (4 * .pi / Double(pixelCount)).squareRoot() * 180 / .pi }

    static func normalized(_ ra: Double) -> Double {
        let wrapped = ra.truncatingRemainder(dividingBy: 360)
        return wrapped < 0 ? wrapped + 360 : wrapped
    }
}

public enum HEALPixError: Error, CustomStringConvertible, Equatable {
    case badOrder(Int)

    public var description: String {
        switch self {
        case .badOrder(let order): return "HEALPix order must be 0 to \(HEALPix.maxOrder), got \(order)"
        }
    }
}
