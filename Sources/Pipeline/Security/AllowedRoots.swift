import Foundation
import Settings

/// `sextant.executor.allowedRoots`: the directories and s3:// prefixes a process may read and
/// write for jobs (comma-separated). Unset: everywhere (the process warns at start). Paths are
/// compared after `..` and symbolic links are resolved, on whole components, so `/data/../etc`
/// and `/data-other` are outside `/data`.
public struct AllowedRoots: Sendable, Equatable {
    public static let key = ClusterKeys.allowedRoots.name

    /// Nil: no restriction.
    public let roots: [String]?

    public init(roots: [String]?) {
        self.roots = roots.map { $0.compactMap(Self.normalized) }
    }

    public init(settings: [String: String]) {
        let list = settings[Self.key].map {
            $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        self.init(roots: list)
    }

    public var isRestricted: Bool { roots != nil }

    public func allows(_ location: String) -> Bool {
        guard let roots else { return true }
        guard let target = Self.normalized(location) else { return false }
        return roots.compactMap { $0 }.contains { root in
            target == root || target.hasPrefix(root.hasSuffix("/") ? root : root + "/")
        }
    }

    /// Throws `AccessError.outsideRoots` naming the location when it is not allowed.
    public func check(_ location: String, purpose: String) throws {
        guard allows(location) else {
            throw AccessError.outsideRoots(location, purpose: purpose, roots: roots ?? [])
        }
    }

    /// A URI as is, without a trailing slash; a path absolute, `..` removed, symbolic links resolved
    /// as far as the path exists. Nil for a URI with a `..` segment (no root contains it).
    static func normalized(_ location: String) -> String? {
        if location.hasPrefix("file://") { return normalized(String(location.dropFirst("file://".count))) }
        if location.contains("://") {
            var text = location
            while text.hasSuffix("/") { text.removeLast() }
            let segments = text.split(separator: "/", omittingEmptySubsequences: false)
            return segments.contains("..") || segments.contains(".") ? nil : text
        }
        var url = URL(fileURLWithPath: location).standardizedFileURL
        // Resolve links on the longest existing prefix, then put the rest back.
        var rest: [String] = []
        while !FileManager.default.fileExists(atPath: url.path), url.path != "/" {
            rest.insert(url.lastPathComponent, at: 0)
            url.deleteLastPathComponent()
        }
        var path = url.resolvingSymlinksInPath().path
        for component in rest { path = (path as NSString).appendingPathComponent(component) }
        return path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }
}

public enum AccessError: Error, CustomStringConvertible, Equatable {
    case outsideRoots(String, purpose: String, roots: [String])

    public var description: String {
        switch self {
        case .outsideRoots(let location, let purpose, let roots):
            return "\(location): \(purpose) outside sextant.executor.allowedRoots (\(roots.joined(separator: ", ")))"
        }
    }
}
