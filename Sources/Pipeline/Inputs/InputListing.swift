import Foundation

/// Turns what a user typed (files, directories, globs, @list files, dataset names,
/// s3:// prefixes) into the list of images a job processes, each with a unique catalog name.
public struct InputListing {
    /// File names we treat as images when walking a directory or a prefix.
    public static let imageSuffixes = [".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fz"]

    public static func isImageName(_ name: String) -> Bool {
        let lower = name.lowercased()
        return imageSuffixes.contains { lower.hasSuffix($0) }
    }

    /// Lists objects under an s3:// (or other remote) prefix; set by the caller that knows stores.
    public var listRemote: ((String) throws -> [InputFile])?
    /// Resolves a dataset name to its directory, or nil when the name is no dataset.
    public var resolveDataset: ((String) throws -> String?)?
    /// With `dryRun`, inputs are taken as given: no file system checks (for planning 10^6 names).
    public var dryRun = false

    public init(listRemote: ((String) throws -> [InputFile])? = nil,
                resolveDataset: ((String) throws -> String?)? = nil, dryRun: Bool = false) {
        self.listRemote = listRemote
        self.resolveDataset = resolveDataset
        self.dryRun = dryRun
    }

    /// Expands every argument, keeping the order given and rejecting two inputs
    /// that would write the same catalog.
    public func expand(_ arguments: [String]) throws -> [InputFile] {
        var files: [InputFile] = []
        for argument in arguments { files += try expand(argument) }
        try InputNames.validate(files)
        // The same file named twice is processed once.
        var unique = Set<String>()
        return files.filter { unique.insert($0.uri).inserted }
    }

    private func expand(_ argument: String) throws -> [InputFile] {
        if argument.hasPrefix("@") { return try expandList(String(argument.dropFirst())) }
        if argument.contains("://"), !argument.hasPrefix("file://") {
            guard let listRemote else { throw InputError.unreadable(argument, reason: "no store can list this location") }
            return try listRemote(argument)
        }
        let path = argument.hasPrefix("file://") ? String(argument.dropFirst("file://".count)) : argument
        if dryRun { return [InputFile(uri: path, relativePath: (path as NSString).lastPathComponent)] }

        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            return isDirectory.boolValue ? try walk(directory: path) : [try file(at: path)]
        }
        if path.contains(where: { "*?[".contains($0) }) {
            let matches = try glob(path)
            if matches.isEmpty { throw InputError.noImages(path) }
            return try matches.flatMap { try expand($0) }
        }
        if let resolveDataset, let directory = try resolveDataset(path) {
            guard FileManager.default.fileExists(atPath: directory) else {
                throw InputError.datasetNotMaterialized(path, directory: directory)
            }
            return try walk(directory: directory)
        }
        throw InputError.notFound(path)
    }

    /// An @list file: one input a line; blank lines and # comments are skipped.
    private func expandList(_ listPath: String) throws -> [InputFile] {
        guard let text = try? String(contentsOfFile: listPath, encoding: .utf8) else {
            throw InputError.notFound(listPath)
        }
        let entries = text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        if entries.isEmpty { throw InputError.emptyList(listPath) }
        if dryRun { return entries.map { InputFile(uri: $0, relativePath: ($0 as NSString).lastPathComponent) } }
        // Listed files that are missing stay in the job, so they are reported, not dropped.
        return try entries.flatMap { entry -> [InputFile] in
            if FileManager.default.fileExists(atPath: entry) || entry.contains("://") { return try expand(entry) }
            return [InputFile(uri: entry, relativePath: (entry as NSString).lastPathComponent)]
        }
    }

    private func file(at path: String) throws -> InputFile {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let size = (attributes?[.size] as? NSNumber)?.int64Value ?? 0
        return InputFile(uri: path, relativePath: (path as NSString).lastPathComponent, size: size)
    }

    /// Every image below `directory`, named by its path relative to it, in sorted order.
    private func walk(directory: String) throws -> [InputFile] {
        let root = URL(fileURLWithPath: directory).standardizedFileURL
        guard let enumerator = FileManager.default.enumerator(
            at: root, includingPropertiesForKeys: [.isRegularFileKey, .fileSizeKey]) else {
            throw InputError.unreadable(directory, reason: "cannot list directory")
        }
        var files: [InputFile] = []
        let prefix = root.path.hasSuffix("/") ? root.path : root.path + "/"
        for case let url as URL in enumerator where Self.isImageName(url.lastPathComponent) {
            let values = try? url.resourceValues(forKeys: [.isRegularFileKey, .fileSizeKey])
            guard values?.isRegularFile == true else { continue }
            let path = url.standardizedFileURL.path
            let relative = path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : url.lastPathComponent
            files.append(InputFile(uri: path, relativePath: relative, size: Int64(values?.fileSize ?? 0)))
        }
        if files.isEmpty { throw InputError.noImages(directory) }
        return files.sorted { $0.relativePath < $1.relativePath }
    }

    private func glob(_ pattern: String) throws -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard Glibc.glob(pattern, 0, nil, &result) == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }
    }
}
