import Extraction
import FITS
import Foundation
import Hashing
import WCS

/// The software that makes a catalog, as this process finds it at run time: Sextant's version,
/// and the linked C libraries' versions as they report them (not as they were at build time).
public struct SoftwareVersions: Codable, Equatable, Sendable {
    public var sextant: String
    /// Library name to the version it reports: `libsep` (sep_version_string), `cfitsio` (ffvers),
    /// `wcslib` (wcslib_version).
    public var libraries: [String: String]

    public init(sextant: String, libraries: [String: String]) {
        self.sextant = sextant
        self.libraries = libraries
    }

    /// This process's software.
    public static let current = SoftwareVersions(
        sextant: SextantVersion.string,
        libraries: ["libsep": SEPLibrary.version, "cfitsio": FITSLibrary.version, "wcslib": WCSLibrary.version])

    /// A short name of these versions (16 hex digits of the SHA-256 of their canonical JSON):
    /// each manifest line carries it, `_provenance.json` spells it out.
    public var id: String {
        let json = (try? CanonicalJSON.encode(self)) ?? Data()
        return String(Digest.sha256(json).hexString.prefix(16))
    }

    /// What differs from `other`, one phrase per difference (empty when none).
    public func differences(from other: SoftwareVersions) -> [String] {
        var found: [String] = []
        if sextant != other.sextant { found.append("Sextant \(other.sextant), now \(sextant)") }
        for name in Set(libraries.keys).union(other.libraries.keys).sorted() where libraries[name] != other.libraries[name] {
            found.append("\(name) \(other.libraries[name] ?? "absent"), now \(libraries[name] ?? "absent")")
        }
        return found
    }
}

/// Names this exact binary: the version plus a hash of the executable. Rebuilding the same
/// source can change it, so it is recorded but never decides whether a catalog is reproducible.
public enum BuildIdentity {
    public static let id: String = {
        let hash = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/self/exe"), options: .alwaysMapped))
            .map { Digest.sha256($0).hexString.prefix(16) } ?? "unknown"
        return "sextant-\(SextantVersion.string)-\(hash)"
    }()
}
