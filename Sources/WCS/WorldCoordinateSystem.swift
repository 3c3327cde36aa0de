import CWCSLIB
import Foundation

/// A position on the sky, in degrees: equatorial J2000 (see `CelestialFrame`).
public struct SkyPosition: Equatable, Sendable {
    public var alpha: Double
    public var delta: Double

    public init(alpha: Double, delta: Double) {
        self.alpha = alpha
        self.delta = delta
    }
}

/// Why an image has no sky coordinates.
public enum WCSUnavailable: Error, Equatable, Sendable, CustomStringConvertible {
    /// The header has no WCS keywords wcslib accepts.
    case noWCS
    /// The WCS it has is not celestial (e.g. a spectral or linear one).
    case notCelestial
    /// wcslib rejected it (its message).
    case invalid(String)
    /// A celestial system we cannot turn into equatorial J2000 (e.g. a planetary body's).
    case unsupportedFrame(String)

    public var description: String {
        switch self {
        case .noWCS: return "no WCS in the header"
        case .notCelestial: return "the WCS is not celestial"
        case .invalid(let message): return "wcslib rejected the WCS: \(message)"
        case .unsupportedFrame(let frame): return "celestial frame \(frame) cannot be converted to equatorial J2000"
        }
    }
}

/// An image's world coordinate system, read by wcslib, giving equatorial J2000 positions
/// as SExtractor's ALPHA_J2000 / DELTA_J2000 do (see `CelestialFrame` for the conversions).
///
/// wcslib is not thread-safe on one `wcsprm` (wcsp2s may lazily re-run wcsset), so each
/// instance holds its own and serializes its calls; header parsing is serialized process-wide.
/// Use one instance per image; many images convert in parallel.
/// @unchecked: `lock` serializes the wcslib calls on `wcs`; `structCount` is touched only by init and deinit.
public final class WorldCoordinateSystem: @unchecked Sendable {
    private let structs: UnsafeMutablePointer<wcsprm>
    private var structCount: Int32
    private let wcs: UnsafeMutablePointer<wcsprm>
    private let lock = NSLock()
    /// The frame the header's celestial axes are in, before conversion to J2000.
    public let frame: CelestialFrame
    private let precessFrom: Double?

    private static let parseLock = NSLock()
    /// wcslib's UNDEFINED marker (wcsmath.h), which Swift does not import.
    private static let undefined = 987654321.0e99

    /// Parses the 80-character records of a FITS header (END optional).
    /// Throws `WCSUnavailable` when there is no usable celestial WCS.
    public init(headerRecords records: [String]) throws {
        // wcspih makes a default linear WCS of a header with no WCS keyword at all.
        guard records.contains(where: { $0.hasPrefix("CTYPE") }) else { throw WCSUnavailable.noWCS }
        let text = records.map { $0.padding(toLength: 80, withPad: " ", startingAt: 0) }.joined()
        var bytes = Array(text.utf8CString)
        var rejected: Int32 = 0
        var count: Int32 = 0
        var parsed: UnsafeMutablePointer<wcsprm>?
        let status = Self.parseLock.withLock {
            wcspih(&bytes, Int32(records.count), WCSHDR_all, 0, &rejected, &count, &parsed)
        }
        guard status == 0, let first = parsed else { throw WCSUnavailable.invalid("wcspih status \(status)") }
        guard count > 0 else {
            wcsvfree(&count, &parsed)
            throw WCSUnavailable.noWCS
        }
        _ = first
        structCount = count
        // The primary description (alternate ' '), or the first one there is.
        let primary = (0..<Int(count)).first { first[$0].alt.0 == 0x20 || first[$0].alt.0 == 0 } ?? 0
        structs = first
        wcs = first + primary
        do {
            let setup = try Self.prepare(wcs)
            frame = setup.frame
            precessFrom = setup.precessFrom
        } catch {
            wcsvfree(&structCount, &parsed)
            throw error
        }
    }

    deinit {
        var pointer: UnsafeMutablePointer<wcsprm>? = structs
        wcsvfree(&structCount, &pointer)
    }

    /// Fixes common header defects as astropy does (units, dates, NCP, ...), checks the axes
    /// are celestial, and rotates galactic, ecliptic and supergalactic systems to equatorial.
    private static func prepare(_ wcs: UnsafeMutablePointer<wcsprm>) throws -> (frame: CelestialFrame, precessFrom: Double?) {
        var fixStatus = [Int32](repeating: 0, count: Int(NWCSFIX))
        _ = wcsfix(1, nil, wcs, &fixStatus)
        let status = wcsset(wcs)
        guard status == 0 else { throw WCSUnavailable.invalid(message(wcs) ?? "wcsset status \(status)") }
        guard wcs.pointee.lng >= 0, wcs.pointee.lat >= 0 else { throw WCSUnavailable.notCelestial }
        let longitudeType = withUnsafeBytes(of: wcs.pointee.lngtyp) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let radesys = withUnsafeBytes(of: wcs.pointee.radesys) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            .trimmingCharacters(in: .whitespaces).uppercased()
        let equinox = wcs.pointee.equinox
        let frame = try CelestialFrame(longitudeType: longitudeType, radesys: radesys,
                                       equinox: equinox.isFinite && equinox != Self.undefined ? equinox : nil)
        if let rotation = frame.rotationToEquatorial {
            let result = wcsccs(wcs, rotation.poleAlpha, rotation.poleDelta, rotation.equatorialPoleLongitude,
                                "RA", "DEC", "FK5", 2000.0, "")
            guard result == 0 else { throw WCSUnavailable.invalid(message(wcs) ?? "wcsccs status \(result)") }
        }
        return (frame, frame.precessionEquinox)
    }

    private static func message(_ wcs: UnsafeMutablePointer<wcsprm>) -> String? {
        guard let error = wcs.pointee.err, error.pointee.status != 0 else { return nil }
        return withUnsafeBytes(of: error.pointee.msg) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// Equatorial J2000 positions of pixels given in the FITS convention (1-based: the centre
    /// of the first pixel is (1, 1); add 1 to SEP's 0-based x and y). A pixel wcslib cannot
    /// convert (outside the projection's domain), or a NaN one, gives NaN.
    public func skyPositions(x: [Double], y: [Double]) -> [SkyPosition] {
        precondition(x.count == y.count, "x and y must have the same length")
        let count = x.count
        guard count > 0 else { return [] }
        let axes = Int(wcs.pointee.naxis)
        var pixels = [Double](repeating: 1, count: count * axes)
        for i in 0..<count {
            pixels[i * axes] = x[i]
            pixels[i * axes + 1] = y[i]
        }
        var image = [Double](repeating: 0, count: count * axes)
        var world = [Double](repeating: 0, count: count * axes)
        var phi = [Double](repeating: 0, count: count)
        var theta = [Double](repeating: 0, count: count)
        var stat = [Int32](repeating: 0, count: count)
        let status = lock.withLock {
            wcsp2s(wcs, Int32(count), Int32(axes), pixels, &image, &phi, &theta, &world, &stat)
        }
        let lng = Int(wcs.pointee.lng), lat = Int(wcs.pointee.lat)
        return (0..<count).map { i in
            guard status == 0 || (status == 8 /* WCSERR_BAD_PIX */ && stat[i] == 0),
                  x[i].isFinite, y[i].isFinite else {
                return SkyPosition(alpha: .nan, delta: .nan)
            }
            var position = SkyPosition(alpha: world[i * axes + lng], delta: world[i * axes + lat])
            if let precessFrom { position = Precession.toJ2000(position, from: precessFrom) }
            if position.alpha < 0 { position.alpha += 360 } else if position.alpha >= 360 { position.alpha -= 360 }
            return position
        }
    }
}
