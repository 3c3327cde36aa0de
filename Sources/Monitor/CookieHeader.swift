import Foundation

/// A request's `Cookie:` header, read the one way both the UI's token check and the portal's
/// session check need.
enum CookieHeader {
    /// Every value sent under `name` (a browser may send one name twice, for two paths).
    static func values(_ header: String, named name: String) -> [String] {
        header.split(separator: ";").compactMap { part in
            let pair = part.trimmingCharacters(in: .whitespaces)
            return pair.hasPrefix(name + "=") ? String(pair.dropFirst(name.count + 1)) : nil
        }
    }
}
