import Foundation

/// The bodies browsers and clients send: `application/x-www-form-urlencoded` and
/// `multipart/form-data` (file uploads).
enum Form {
    struct Part: Equatable {
        var name: String
        var filename: String?
        var data: Data
        var text: String { String(decoding: data, as: UTF8.self) }
    }

    static func urlEncoded(_ body: Data) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            guard let key = kv.first, !key.isEmpty else { continue }
            fields[key] = kv.count > 1 ? kv[1] : ""
        }
        return fields
    }

    /// The boundary of a `multipart/form-data` content type, nil for any other type.
    static func boundary(of contentType: String?) -> String? {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/form-data") else { return nil }
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if pair.count == 2, pair[0].lowercased() == "boundary" {
                return String(pair[1]).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }

    /// The parts of a multipart body; malformed parts are skipped, never a crash.
    static func multipart(_ body: Data, boundary: String) -> [Part] {
        let delimiter = Data("--\(boundary)".utf8)
        let headerEnd = Data("\r\n\r\n".utf8)
        var parts: [Part] = []
        var cursor = body.startIndex
        guard let first = body.range(of: delimiter, in: cursor..<body.endIndex) else { return [] }
        cursor = first.upperBound
        while cursor < body.endIndex {
            // After a delimiter: "--" ends the body, else CRLF then headers.
            if body[cursor...].starts(with: Data("--".utf8)) { break }
            guard let headers = body.range(of: headerEnd, in: cursor..<body.endIndex) else { break }
            guard let next = body.range(of: Data("\r\n".utf8) + delimiter, in: headers.upperBound..<body.endIndex) else { break }
            let head = String(decoding: body[cursor..<headers.lowerBound], as: UTF8.self)
            if let disposition = head.split(separator: "\r\n").first(where: {
                $0.lowercased().hasPrefix("content-disposition:")
            }), let name = parameter("name", in: String(disposition)) {
                parts.append(Part(name: name, filename: parameter("filename", in: String(disposition)),
                                  data: Data(body[headers.upperBound..<next.lowerBound])))
            }
            cursor = next.upperBound
        }
        return parts
    }

    private static func parameter(_ key: String, in header: String) -> String? {
        for piece in header.split(separator: ";").dropFirst() {
            let pair = piece.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if pair.count == 2, pair[0].lowercased() == key {
                return String(pair[1]).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }
}
