import Foundation

/// The names a job writes come from its inputs, so they are checked before the job starts:
/// a relative path whose catalog would land outside the output, over the job's own files, or
/// on another input's catalog is refused with the reason. Checked where inputs are listed and
/// again by the driver, since a submitted job's inputs come from a client.
public enum InputNames {
    /// Names the job itself writes at the output's top level; no catalog may take them.
    /// Every `_`-prefixed top-level name is reserved for the job's own files.
    public static let reservedPrefix = "_"

    /// Refuses unsafe names, then two inputs whose catalogs would collide: the same path once the
    /// image suffix is dropped (`x.fits` and `x.fz`), compared case-insensitively (`X.FITS` and
    /// `x.fits` are one file on macOS and many Windows shares). The same file named twice is fine.
    public static func validate(_ inputs: [InputFile]) throws {
        var seen = NameTable(capacity: inputs.count)
        for (index, input) in inputs.enumerated() {
            try validate(input)
            let key = InputFile.collisionKey(of: input.relativePath)
            if let first = seen.insert(key, index: Int32(truncatingIfNeeded: index), isSame: {
                InputFile.collisionKey(of: inputs[Int($0)].relativePath) == key
            }).map({ inputs[Int($0)].uri }), first != input.uri {
                throw InputError.duplicateName(InputFile.stem(of: input.relativePath) + ".cat.*", first: first, second: input.uri)
            }
        }
    }

    /// One input's URI and relative path: no control characters; the path relative, without
    /// empty, `.` or `..` segments, and not a reserved top-level name.
    public static func validate(_ input: InputFile) throws {
        // Most names are plain: one pass over their bytes decides (a million in well under a second).
        if isPlain(input.uri.utf8, path: false), isPlain(input.relativePath.utf8, path: true) { return }
        if let bad = input.uri.unicodeScalars.first(where: isControl) {
            throw InputError.unsafeName(printable(input.uri), reason: "its name holds the control character \(codePoint(bad))")
        }
        let path = input.relativePath
        if let bad = path.unicodeScalars.first(where: isControl) {
            throw InputError.unsafeName(printable(input.uri), reason: "its relative path holds the control character \(codePoint(bad))")
        }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        if path.isEmpty || path.hasPrefix("/") {
            throw InputError.unsafeName(input.uri, reason: "its relative path '\(path)' is empty or absolute")
        }
        if segments.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) {
            throw InputError.unsafeName(input.uri, reason: "its relative path '\(path)' has an empty, '.' or '..' segment")
        }
        if segments.count == 1, path.hasPrefix(reservedPrefix) {
            throw InputError.unsafeName(input.uri, reason:
                "its catalog would take a top-level name starting with '\(reservedPrefix)', reserved for the job's own files (_manifest.jsonl, _SUCCESS)")
        }
    }

    /// No control byte (C0, DEL, or the lead byte of a C1 control); for a path, also no leading
    /// `/`, `.` or `_` and no `/` followed by `/` or `.`. False only means: look closer.
    private static func isPlain(_ bytes: String.UTF8View, path: Bool) -> Bool {
        var previous: UInt8 = UInt8(ascii: "/")
        for byte in bytes {
            if byte < 0x20 || byte == 0x7F || byte == 0xC2 { return false }
            if path, previous == UInt8(ascii: "/"),
               byte == UInt8(ascii: "/") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") { return false }
            previous = byte
        }
        return !path || (!bytes.isEmpty && previous != UInt8(ascii: "/"))
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    private static func codePoint(_ scalar: Unicode.Scalar) -> String {
        String(format: "U+%04X", scalar.value)
    }

    /// The name with control characters shown as code points, so the error stays one line.
    private static func printable(_ text: String) -> String {
        text.unicodeScalars.map { isControl($0) ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined()
    }
}
