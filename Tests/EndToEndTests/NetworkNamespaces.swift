import Foundation
import TestSupport
import XCTest

/// Test hosts on this machine: one network namespace per host, each joined to a bridge by a
/// veth pair, on a private /24 that exists only inside these namespaces. `tearDown()`
/// removes everything, and `removeStale()` clears what a crashed earlier run left behind.
final class NetworkNamespaces {
    static let prefix = "sxt"
    let tag: String
    let subnet = "10.213.77"
    private var created: [Int] = []
    var bridge: String { "\(Self.prefix)br\(tag)" }

    init() {
        tag = String(ProcessInfo.processInfo.processIdentifier % 10000)
    }

    /// Whether this machine lets us make namespaces (root and iproute2).
    static var available: Bool {
        guard getuid() == 0, FileManager.default.fileExists(atPath: "/usr/sbin/ip") else { return false }
        let probe = "\(prefix)probe\(ProcessInfo.processInfo.processIdentifier % 10000)"
        defer { _ = try? TestSupport.run("/usr/sbin/ip", ["netns", "del", probe]) }
        return (try? TestSupport.run("/usr/sbin/ip", ["netns", "add", probe]).status) == 0
    }

    /// Namespace name of host `index` (1-based).
    func namespace(_ index: Int) -> String { "\(Self.prefix)\(tag)h\(index)" }
    func address(_ index: Int) -> String { "\(subnet).\(index + 10)" }
    /// The root-side end of host `index`'s link: set it down to cut the host off.
    func link(_ index: Int) -> String { "\(Self.prefix)\(tag)v\(index)" }

    func setUp(hosts count: Int) throws {
        try ip("link", "add", bridge, "type", "bridge")
        try ip("link", "set", bridge, "up")
        for index in 1...count {
            let ns = namespace(index), outside = link(index), inside = "\(link(index))p"
            try ip("netns", "add", ns)
            created.append(index)
            try ip("link", "add", outside, "type", "veth", "peer", "name", inside)
            try ip("link", "set", inside, "netns", ns)
            try ip("link", "set", outside, "master", bridge)
            try ip("link", "set", outside, "up")
            try ip("-n", ns, "addr", "add", "\(address(index))/24", "dev", inside)
            try ip("-n", ns, "link", "set", inside, "up")
            try ip("-n", ns, "link", "set", "lo", "up")
        }
    }

    func setLink(_ index: Int, up: Bool) throws {
        try ip("link", "set", link(index), up ? "up" : "down")
    }

    func tearDown() {
        for index in created {
            _ = try? TestSupport.run("/usr/sbin/ip", ["link", "del", link(index)])
            _ = try? TestSupport.run("/usr/sbin/ip", ["netns", "del", namespace(index)])
        }
        _ = try? TestSupport.run("/usr/sbin/ip", ["link", "del", bridge])
        created = []
    }

    /// Removes namespaces and links of earlier runs that died before their tear-down.
    static func removeStale() {
        if let list = try? TestSupport.run("/usr/sbin/ip", ["netns", "list"]).stdout {
            for line in list.split(separator: "\n") where line.hasPrefix(prefix) {
                _ = try? TestSupport.run("/usr/sbin/ip", ["netns", "del", String(line.split(separator: " ")[0])])
            }
        }
        if let links = try? TestSupport.run("/usr/sbin/ip", ["-o", "link", "show"]).stdout {
            for line in links.split(separator: "\n") {
                let fields = line.split(separator: ":")
                guard fields.count > 1 else { continue }
                let name = fields[1].trimmingCharacters(in: .whitespaces).split(separator: "@")[0]
                if name.hasPrefix(prefix) { _ = try? TestSupport.run("/usr/sbin/ip", ["link", "del", String(name)]) }
            }
        }
    }

    private func ip(_ arguments: String...) throws {
        let result = try TestSupport.run("/usr/sbin/ip", arguments)
        guard result.status == 0 else {
            throw TestSupportError.commandFailed("ip \(arguments.joined(separator: " ")): \(result.stderr)")
        }
    }
}
