import CWCSLIB
import Foundation

/// The celestial system of an image's WCS and how it becomes equatorial J2000, following
/// SExtractor 2.25's ALPHA_J2000 / DELTA_J2000:
///
/// - ICRS, and FK5 at equinox 2000 (the default when RADESYS and EQUINOX are absent),
///   are taken as J2000 unchanged (ICRS and FK5 J2000 differ by ~20 mas, which SExtractor ignores too).
/// - FK5 at another equinox is precessed to J2000 (IAU 1976, Lieske et al. 1977).
/// - FK4 and FK4-NO-E (the default for EQUINOX < 1984) are precessed from their equinox with
///   the same formulae, without the FK4 -> FK5 E-terms and equinox correction (up to ~1"):
///   SExtractor does exactly this and warns "FK4 precession formulae not yet implemented".
/// - Galactic, ecliptic and supergalactic axes are rotated to equatorial J2000 with the poles
///   and origins SExtractor uses (Allen's Astrophysical Quantities, 4th ed.).
public enum CelestialFrame: Equatable, Sendable, CustomStringConvertible {
    case icrs
    case fk5(equinox: Double)
    case fk4(equinox: Double)
    case galactic
    case ecliptic
    case supergalactic

    init(longitudeType: String, radesys: String, equinox: Double?) throws {
        switch longitudeType.uppercased() {
        case "RA":
            switch radesys {
            case "ICRS": self = .icrs
            case "FK5": self = .fk5(equinox: equinox ?? 2000)
            case "FK4", "FK4-NO-E": self = .fk4(equinox: equinox ?? 1950)
            case "":
                if let equinox, equinox < 1984 { self = .fk4(equinox: equinox) } else { self = .fk5(equinox: equinox ?? 2000) }
            default: throw WCSUnavailable.unsupportedFrame("RADESYS \(radesys)")
            }
        case "GLON": self = .galactic
        case "ELON": self = .ecliptic
        case "SLON": self = .supergalactic
        default: throw WCSUnavailable.unsupportedFrame("\(longitudeType) axes")
        }
    }

    public var description: String {
        switch self {
        case .icrs: return "ICRS"
        case .fk5(let equinox): return "FK5 J\(equinox)"
        case .fk4(let equinox): return "FK4 B\(equinox)"
        case .galactic: return "galactic"
        case .ecliptic: return "ecliptic"
        case .supergalactic: return "supergalactic"
        }
    }

    /// The equinox to precess from, nil when positions are already J2000.
    var precessionEquinox: Double? {
        switch self {
        case .fk5(let equinox), .fk4(let equinox): return abs(equinox - 2000) > 0.003 ? equinox : nil
        default: return nil
        }
    }

    struct Rotation {
        /// Equatorial J2000 position of this system's pole.
        var poleAlpha: Double
        var poleDelta: Double
        /// This system's longitude of the equatorial pole.
        var equatorialPoleLongitude: Double
    }

    /// How to rotate this system's axes to equatorial ones (nil when they already are).
    var rotationToEquatorial: Rotation? {
        let pole: (Double, Double), origin: (Double, Double)
        switch self {
        case .galactic: (pole, origin) = ((192.85948123, 27.12825120), (266.40499625, -28.93617242))
        case .ecliptic: (pole, origin) = ((273.85261111, 66.99111111), (0, 0))
        case .supergalactic: (pole, origin) = ((283.7514, 15.70480), (42.29235, 59.52315))
        default: return nil
        }
        return Rotation(poleAlpha: pole.0, poleDelta: pole.1,
                        equatorialPoleLongitude: Self.poleLongitude(pole: pole, origin: origin))
    }

    /// The longitude, in a system with the given pole, of the equatorial pole, chosen so that
    /// the system's origin (longitude 0, latitude 0) lands on `origin`.
    private static func poleLongitude(pole: (Double, Double), origin: (Double, Double)) -> Double {
        let colatitude = 90 - pole.1
        var euler = [pole.0, colatitude, 0, cos(colatitude * .pi / 180), sin(colatitude * .pi / 180)]
        var alpha = origin.0, delta = origin.1
        var phi = 0.0, theta = 0.0
        sphs2x(&euler, 1, 1, 1, 1, &alpha, &delta, &phi, &theta)
        let longitude = (-phi).truncatingRemainder(dividingBy: 360)
        return longitude < 0 ? longitude + 360 : longitude
    }
}

/// IAU 1976 precession (Lieske et al. 1977), as SExtractor's `precess`.
enum Precession {
    static func toJ2000(_ position: SkyPosition, from equinox: Double) -> SkyPosition {
        let arcsec = Double.pi / 180 / 3600
        let t0 = (equinox - 2000) / 100
        let t = (2000 - equinox) / 100
        let w = 2306.2181 + (1.39656 - 0.000139 * t0) * t0
        let zeta = (w + ((0.30188 - 0.000344 * t0) + 0.017998 * t) * t) * t * arcsec
        let z = (w + ((1.09468 + 0.000066 * t0) + 0.018203 * t) * t) * t * arcsec
        let theta = ((2004.3109 + (-0.85330 - 0.000217 * t0) * t0)
                     + ((-0.42665 - 0.000217 * t0) - 0.041833 * t) * t) * t * arcsec
        let ra = position.alpha * .pi / 180, dec = position.delta * .pi / 180
        let a = cos(dec) * sin(ra + zeta)
        let b = cos(theta) * cos(dec) * cos(ra + zeta) - sin(theta) * sin(dec)
        let c = sin(theta) * cos(dec) * cos(ra + zeta) + cos(theta) * sin(dec)
        var alpha = (atan2(a, b) + z) * 180 / .pi
        if alpha < 0 { alpha += 360 }
        return SkyPosition(alpha: alpha, delta: asin(max(-1, min(1, c))) * 180 / .pi)
    }
}
