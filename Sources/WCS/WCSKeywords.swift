import Foundation

extension WorldCoordinateSystem {
    /// True for the keywords that describe a WCS (FITS WCS papers I-III, TPV and SIP, and the
    /// date and frame keywords), primary or alternate: what a catalog header copies from its image.
    public static func isWCSKeyword(_ keyword: String) -> Bool {
        let name = keyword.uppercased()
        if exactNames.contains(name) { return true }
        // Drop a trailing alternate-description letter (CTYPE1A).
        let base = name.last.map { $0.isLetter && name.count > 5 } == true && indexedPrefixes.contains(where: { name.hasPrefix($0) })
            ? String(name.dropLast()) : name
        for prefix in indexedPrefixes where base.hasPrefix(prefix) {
            let rest = base.dropFirst(prefix.count)
            if !rest.isEmpty, rest.allSatisfy({ $0.isNumber || $0 == "_" }) { return true }
        }
        // SIP: A_ORDER, A_p_q, AP_p_q, B..., BP..., and A_DMAX/B_DMAX.
        for prefix in ["A_", "B_", "AP_", "BP_"] where name.hasPrefix(prefix) {
            let rest = name.dropFirst(prefix.count)
            if rest == "ORDER" || rest == "DMAX" || (!rest.isEmpty && rest.allSatisfy { $0.isNumber || $0 == "_" }) { return true }
        }
        return false
    }

    private static let exactNames: Set<String> = [
        "WCSAXES", "WCSNAME", "RADESYS", "RADECSYS", "EQUINOX", "EPOCH", "LONPOLE", "LATPOLE",
        "MJD-OBS", "DATE-OBS", "MJDREF", "MJD-AVG", "DATE-AVG",
    ]
    private static let indexedPrefixes = ["CTYPE", "CRPIX", "CRVAL", "CDELT", "CUNIT", "CROTA", "CD", "PC", "PV", "PS",
                                          "CRDER", "CSYER", "DP", "DQ", "CPDIS", "CQDIS", "WCSAXES", "WCSNAME"]
}
