import Foundation

/// Who may use the web UI: requests must name this server in `Host` (a page on another domain
/// that resolves to us, DNS rebinding, is refused), and, when a token is set (required when the
/// UI listens beyond loopback), carry it: `Authorization: Bearer TOKEN`, the cookie the
/// `?token=TOKEN` link sets, or that link itself.
public struct WebAccess: Sendable, Equatable {
    public static let cookieName = "sextant_ui_token"
    public var token: String?
    /// Host names accepted besides IP literals, `localhost` and this machine's names (`sextant.ui.allowedHosts`).
    public var allowedHosts: Set<String>

    public init(token: String? = nil, allowedHosts: Set<String> = []) {
        self.token = token
        self.allowedHosts = Set(allowedHosts.map { $0.lowercased() })
    }

    public enum Verdict: Equatable {
        case allowed
        /// The token came in the query: set the cookie and send the browser to `location`.
        case setCookie(location: String)
        case refused(status: Int, reason: String)
    }

    public func verdict(host: String?, uri: String, authorization: String?, cookie: String?) -> Verdict {
        guard let host, acceptsHost(host) else {
            return .refused(status: 421, reason: "this server does not answer to Host '\(host ?? "")' "
                            + "(add it to sextant.ui.allowedHosts)")
        }
        guard let token else { return .allowed }
        if let authorization, authorization.hasPrefix("Bearer "), Self.equal(String(authorization.dropFirst(7)), token) {
            return .allowed
        }
        if let cookie, CookieHeader.values(cookie, named: Self.cookieName).contains(where: { Self.equal($0, token) }) {
            return .allowed
        }
        if let queried = Self.queryToken(uri), Self.equal(queried, token) {
            let path = uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? "/"
            return .setCookie(location: path.isEmpty ? "/" : path)
        }
        return .refused(status: 401, reason: "a token is required: open the link with ?token=TOKEN "
                        + "or send Authorization: Bearer TOKEN")
    }

    func acceptsHost(_ header: String) -> Bool {
        var name = header.lowercased()
        if name.hasPrefix("[") {  // [v6]:port
            return name.contains("]")
        }
        if let colon = name.lastIndex(of: ":") { name = String(name[..<colon]) }
        if name.isEmpty { return false }
        // An IP literal cannot be rebound to another address; a name can.
        if name.split(separator: ".").count == 4, name.split(separator: ".").allSatisfy({ UInt8($0) != nil }) { return true }
        let machine = ProcessInfo.processInfo.hostName.lowercased()
        return name == "localhost" || name == machine || name == machine.split(separator: ".").first.map(String.init)
            || allowedHosts.contains(name)
    }

    private static func queryToken(_ uri: String) -> String? {
        guard let query = uri.split(separator: "?", maxSplits: 1).dropFirst().first else { return nil }
        for pair in query.split(separator: "&") where pair.hasPrefix("token=") {
            return String(pair.dropFirst(6)).removingPercentEncoding
        }
        return nil
    }

    /// Time independent of where the strings differ.
    static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for index in 0..<max(x.count, y.count) {
            difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
        }
        return difference == 0
    }
}
