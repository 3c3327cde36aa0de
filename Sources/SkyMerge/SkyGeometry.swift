import Foundation

/// Small-circle geometry on the sky, in degrees; exact (haversine) at any separation.
public enum SkyGeometry {
    /// The angle between two positions, in degrees.
    public static func separation(ra1: Double, dec1: Double, ra2: Double, dec2: Double) -> Double {
        let (lat1, lat2) = (dec1 * .pi / 180, dec2 * .pi / 180)
        let dLat = lat2 - lat1, dLon = (ra2 - ra1) * .pi / 180
        let h = sin(dLat / 2) * sin(dLat / 2) + cos(lat1) * cos(lat2) * sin(dLon / 2) * sin(dLon / 2)
        return 2 * asin(min(1, h.squareRoot())) * 180 / .pi
    }

    /// The position `distance` degrees from (ra, dec) toward `bearing` (degrees east of north).
    public static func offset(ra: Double, dec: Double, distance: Double, bearing: Double) -> (ra: Double, dec: Double) {
        let lat1 = dec * .pi / 180, lon1 = ra * .pi / 180
        let delta = distance * .pi / 180, theta = bearing * .pi / 180
        let lat2 = asin(sin(lat1) * cos(delta) + cos(lat1) * sin(delta) * cos(theta))
        let lon2 = lon1 + atan2(sin(theta) * sin(delta) * cos(lat1), cos(delta) - sin(lat1) * sin(lat2))
        var ra2 = (lon2 * 180 / .pi).truncatingRemainder(dividingBy: 360)
        if ra2 < 0 { ra2 += 360 }
        return (ra2, lat2 * 180 / .pi)
    }
}
