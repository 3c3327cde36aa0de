import Foundation

/// A response body written in pieces (`Transfer-Encoding: chunked`): the server calls `produce`
/// off the event loop and sends each piece as it comes, waiting for it to go out, so memory
/// stays that of one piece however large the whole.
public struct BodyStream: Sendable {
    public let produce: @Sendable (_ write: (Data) throws -> Void) throws -> Void

    public init(_ produce: @escaping @Sendable (_ write: (Data) throws -> Void) throws -> Void) {
        self.produce = produce
    }
}

/// POSIX ustar records, written one file at a time (a pax header carries names over 100 bytes).
enum Tar {
    static func header(name: String, size: Int, modified: Date = Date()) -> Data {
        var out = Data()
        var shortName = name
        if name.utf8.count > 100 {
            let record = paxRecord("path", name)
            out += block(name: "PaxHeaders/\(abs(name.hashValue))", size: record.count, type: "x", modified: modified)
            out += padded(record)
            shortName = String(decoding: Array(name.utf8.suffix(100)), as: UTF8.self)
        }
        return out + block(name: shortName, size: size, type: "0", modified: modified)
    }

    /// Zeros to the next 512-byte boundary after `size` bytes of content.
    static func padding(after size: Int) -> Data {
        Data(count: (512 - size % 512) % 512)
    }

    /// Two zero blocks end the archive.
    static let end = Data(count: 1024)

    private static func block(name: String, size: Int, type: Character, modified: Date) -> Data {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, width: Int) {
            for (index, byte) in text.utf8.prefix(width).enumerated() { header[offset + index] = byte }
        }
        func octal(_ value: Int, width: Int) -> String {
            let digits = String(value, radix: 8)
            return String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits
        }
        put(name, at: 0, width: 100)
        put("0000644", at: 100, width: 8)
        put("0000000", at: 108, width: 8)
        put("0000000", at: 116, width: 8)
        put(octal(size, width: 12), at: 124, width: 12)
        put(octal(Int(modified.timeIntervalSince1970), width: 12), at: 136, width: 12)
        put("        ", at: 148, width: 8)
        put(String(type), at: 156, width: 1)
        put("ustar", at: 257, width: 6)
        put("00", at: 263, width: 2)
        put("sextant", at: 265, width: 32)
        put("sextant", at: 297, width: 32)
        let sum = header.reduce(0) { $0 + Int($1) }
        put(octal(sum, width: 7), at: 148, width: 7)
        header[155] = 0x20
        return Data(header)
    }

    private static func paxRecord(_ key: String, _ value: String) -> Data {
        let body = " \(key)=\(value)\n"
        var length = body.utf8.count + 1
        while "\(length)".utf8.count + body.utf8.count != length { length += 1 }
        return Data("\(length)\(body)".utf8)
    }

    private static func padded(_ data: Data) -> Data { data + padding(after: data.count) }
}
