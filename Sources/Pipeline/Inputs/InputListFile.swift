import Foundation

/// The lines of an @list file: one input a line, read as bytes (a million lines in well under a
/// second). Blank lines and `#` comments are skipped and counted; a name listed again is kept
/// once and reported with both line numbers; a line that is not UTF-8 is reported and skipped.
/// Nothing is dropped without a notice naming the file and the line.
struct InputListFile {
    struct Line {
        var number: Int
        var text: String
    }

    let path: String
    private(set) var lines: [Line] = []
    private(set) var notices: [String] = []
    private(set) var blank = 0
    private(set) var comments = 0
    private(set) var duplicates = 0
    private(set) var undecodable = 0

    /// Per-line notices printed for each kind before the rest are only counted.
    static let noticesPerKind = 20

    init(path: String) throws {
        self.path = path
        guard let data = FileManager.default.contents(atPath: path) else { throw InputError.notFound(path) }
        var number = 0
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            // Sized once: growing a table of 10^6 names rehashes every name several times.
            let newlines = bytes.reduce(into: 0) { count, byte in if byte == 0x0A { count += 1 } }
            var firstLine = NameTable(capacity: newlines + 1)
            lines.reserveCapacity(newlines + 1)
            var start = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count, bytes[end] != 0x0A { end += 1 }
                number += 1
                take(UnsafeBufferPointer(rebasing: bytes[start..<end]), number: number, firstLine: &firstLine)
                start = end + 1
            }
        }
        if lines.isEmpty { throw InputError.emptyList(path) }
    }

    /// A one-line summary of what was skipped, or nil when every line was an input.
    var summary: String? {
        var parts: [String] = []
        if duplicates > 0 { parts.append("\(duplicates) repeated \(duplicates == 1 ? "name" : "names") kept once") }
        if undecodable > 0 { parts.append("\(undecodable) \(undecodable == 1 ? "line" : "lines") not UTF-8 skipped") }
        if blank > 0 { parts.append("\(blank) blank \(blank == 1 ? "line" : "lines") skipped") }
        if comments > 0 { parts.append("\(comments) comment \(comments == 1 ? "line" : "lines") skipped") }
        return parts.isEmpty ? nil : "\(path): \(lines.count) inputs; " + parts.joined(separator: ", ")
    }

    /// `firstLine` holds, for each name kept, its index in `lines`.
    private mutating func take(_ raw: UnsafeBufferPointer<UInt8>, number: Int, firstLine: inout NameTable) {
        var low = raw.startIndex, high = raw.endIndex
        while low < high, Self.isSpace(raw[low]) { low += 1 }
        while high > low, Self.isSpace(raw[high - 1]) { high -= 1 }
        if low == high { blank += 1; return }
        if raw[low] == UInt8(ascii: "#") { comments += 1; return }
        guard let text = String(validating: UnsafeBufferPointer(rebasing: raw[low..<high]), as: UTF8.self),
              !text.utf8.contains(0) else {
            undecodable += 1
            note(undecodable, "\(path):\(number): not a UTF-8 file name; line skipped")
            return
        }
        if let first = firstLine.insert(text, index: Int32(truncatingIfNeeded: lines.count),
                                        isSame: { lines[Int($0)].text == text }) {
            duplicates += 1
            note(duplicates, "\(path):\(number): \(text) is listed again (first on line \(lines[Int(first)].number)); it runs once")
            return
        }
        lines.append(Line(number: number, text: text))
    }

    private mutating func note(_ count: Int, _ message: String) {
        if count <= Self.noticesPerKind { notices.append(message) }
        if count == Self.noticesPerKind + 1 { notices.append("\(path): more lines like that; see the count below") }
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0B || byte == 0x0C
    }
}
