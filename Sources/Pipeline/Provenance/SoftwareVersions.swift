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

/// Names this exact binary: the version plus the linker's GNU build ID (a hash of the linked
/// contents, in an ELF note the loader has already mapped), or, when the binary has none, a
/// hash of the executable. Reading the note takes microseconds where hashing the 35 MB binary
/// took 25-65 ms at the end of every job. Rebuilding the same source can change it, so it is
/// recorded but never decides whether a catalog is reproducible.
public enum BuildIdentity {
    public static let id: String = {
        let hash = ELFBuildID.ofFile("/proc/self/exe")?.prefix(16)
            ?? (try? Data(contentsOf: URL(fileURLWithPath: "/proc/self/exe"), options: .alwaysMapped))
                .map { Digest.sha256($0).hexString.prefix(16) } ?? "unknown"
        return "sextant-\(SextantVersion.string)-\(hash)"
    }()
}

/// The NT_GNU_BUILD_ID note of a 64-bit little-endian ELF file, as hex, read from its program
/// headers' PT_NOTE segments (a few hundred bytes near the start of the file).
enum ELFBuildID {
    static func ofFile(_ path: String) -> String? {
        guard let file = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? file.close() }
        func read(_ offset: Int, _ count: Int) -> [UInt8]? {
            guard offset >= 0, count > 0, count <= 1 << 20, (try? file.seek(toOffset: UInt64(offset))) != nil,
                  let data = try? file.read(upToCount: count), data.count == count else { return nil }
            return [UInt8](data)
        }
        guard let header = read(0, 64), header[0..<4].elementsEqual([0x7F, 0x45, 0x4C, 0x46]),
              header[4] == 2, header[5] == 1 else { return nil }  // ELFCLASS64, little-endian
        let tableOffset = Int(little(header, 0x20, 8)), entrySize = Int(little(header, 0x36, 2))
        let count = Int(little(header, 0x38, 2))
        guard entrySize >= 56, let table = read(tableOffset, entrySize * count) else { return nil }
        for entry in 0..<count {
            let base = entry * entrySize
            guard little(table, base, 4) == 4 else { continue }  // PT_NOTE
            if let notes = read(Int(little(table, base + 8, 8)), Int(little(table, base + 32, 8))),
               let id = buildID(inNotes: notes) { return id }
        }
        return nil
    }

    /// Walks the notes (namesz, descsz, type, name and desc each padded to 4 bytes).
    static func buildID(inNotes notes: [UInt8]) -> String? {
        var offset = 0
        while offset + 12 <= notes.count {
            let nameSize = Int(little(notes, offset, 4)), descSize = Int(little(notes, offset + 4, 4))
            let type = little(notes, offset + 8, 4)
            let name = offset + 12, desc = name + (nameSize + 3) / 4 * 4
            guard desc + descSize <= notes.count else { return nil }
            if type == 3, nameSize == 4, notes[name..<(name + 4)].elementsEqual(Array("GNU\0".utf8)), descSize > 0 {
                return notes[desc..<(desc + descSize)].map { String(format: "%02x", $0) }.joined()
            }
            offset = desc + (descSize + 3) / 4 * 4
        }
        return nil
    }

    private static func little(_ bytes: [UInt8], _ offset: Int, _ width: Int) -> UInt64 {
        (0..<width).reversed().reduce(0) { $0 << 8 | UInt64(bytes[offset + $1]) }
    }
}
