import Foundation
import Storage

/// Turns what a user typed (files, directories, globs, @list files, dataset names,
/// s3:// prefixes) into the list of images a job processes, each with a unique catalog name.
public struct InputListing {
    /// File names we treat as images when walking a directory or a prefix.
    public static let imageSuffixes = [".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fz", ".fits.bz2", ".fit.bz2"]

    public static func isImageName(_ name: String) -> Bool {
        if let matched = InputFile.asciiSuffixLength(of: name) { return matched > 0 }
        let lower = name.lowercased()
        return imageSuffixes.contains { lower.hasSuffix($0) }
    }

    /// Lists objects under an s3:// (or other remote) prefix; set by the caller that knows stores.
    public var listRemote: ((String) throws -> [InputFile])?
    /// Resolves a dataset name to its directory, or nil when the name is no dataset.
    public var resolveDataset: ((String) throws -> String?)?
    /// With `dryRun`, an @list's lines are taken as given: no file system checks (for planning
    /// 10^6 names). Arguments are still expanded: a directory counts its images.
    public var dryRun = false
    /// Hears what the listing skipped or doubts, one line each with the file and line number
    /// (repeated names, unreadable entries, blank lines); the CLI prints them before the job.
    public var notice: ((String) -> Void)?

    public init(listRemote: ((String) throws -> [InputFile])? = nil,
                resolveDataset: ((String) throws -> String?)? = nil, dryRun: Bool = false,
                notice: ((String) -> Void)? = nil) {
        self.listRemote = listRemote
        self.resolveDataset = resolveDataset
        self.dryRun = dryRun
        self.notice = notice
    }

    /// Expands every argument, keeping the order given and rejecting two inputs
    /// that would write the same catalog.
    public func expand(_ arguments: [String]) throws -> [InputFile] {
        // One @list of plain names holds each once already (`InputListFile` keeps a repeat once):
        // 10^6 names need no second table.
        if arguments.count == 1, arguments[0].hasPrefix("@") {
            let (files, distinct) = try expandList(String(arguments[0].dropFirst()))
            try InputNames.validate(files)
            return distinct ? files : Self.unique(files)
        }
        // One directory holds each file once already (a walk yields each key once): 10^6 files
        // need no set of their paths.
        if arguments.count == 1, let directory = localDirectory(arguments[0]) {
            let files = try walk(directory: directory)
            try InputNames.validate(files)
            return files
        }
        var files: [InputFile] = []
        for argument in arguments { files += try expand(argument) }
        try InputNames.validate(files)
        return Self.unique(files)
    }

    /// The directory `argument` names on the local file system, if it names one (as `expand` reads it).
    private func localDirectory(_ argument: String) -> String? {
        if argument.hasPrefix("@") || (argument.contains("://") && !argument.hasPrefix("file://")) { return nil }
        let path = argument.hasPrefix("file://") ? String(argument.dropFirst("file://".count)) : argument
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return nil }
        return path
    }

    /// The same file named twice is processed once.
    private static func unique(_ files: [InputFile]) -> [InputFile] {
        var unique = Set<String>(minimumCapacity: files.count)
        return files.filter { unique.insert($0.uri).inserted }
    }

    private func expand(_ argument: String) throws -> [InputFile] {
        if argument.hasPrefix("@") { return try expandList(String(argument.dropFirst())).files }
        if argument.contains("://"), !argument.hasPrefix("file://") {
            guard let listRemote else { throw InputError.unreadable(argument, reason: "no store can list this location") }
            return try listRemote(argument)
        }
        let path = argument.hasPrefix("file://") ? String(argument.dropFirst("file://".count)) : argument
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

    /// An @list file: one input a line (see `InputListFile` for blanks, comments and repeats).
    /// A listed local file is taken as is (missing ones stay, so they are reported, not dropped);
    /// a listed directory is walked; an s3:// line naming an image is that object,
    /// any other remote line a prefix to list.
    /// Also says whether every input is a line of its own (`distinct`): false once a line was
    /// walked, listed as a prefix, or named with `file://` (it may name a file another line names).
    private func expandList(_ listPath: String) throws -> (files: [InputFile], distinct: Bool) {
        let list = try InputListFile(path: listPath)
        var files: [InputFile] = []
        files.reserveCapacity(list.lines.count)
        var missing = 0
        var distinct = true
        for line in list.lines {
            let entry = line.text
            if dryRun {
                files.append(InputFile(uri: entry, relativePath: Self.lastComponent(of: entry)))
                continue
            }
            if Self.hasScheme(entry), !entry.hasPrefix("file://") {
                if Self.isImageName(entry) {
                    files.append(InputFile(uri: entry, relativePath: Self.lastComponent(of: entry)))
                } else {
                    files += try expand(entry)
                    distinct = false
                }
                continue
            }
            let path = entry.hasPrefix("file://") ? String(entry.dropFirst("file://".count)) : entry
            if path.utf8.count != entry.utf8.count { distinct = false }
            var info = stat()
            if stat(path, &info) == 0 {
                if (info.st_mode & S_IFMT) == S_IFDIR {
                    files += try walk(directory: path)
                    distinct = false
                } else {
                    files.append(InputFile(uri: path, relativePath: Self.lastComponent(of: path), size: Int64(info.st_size)))
                }
            } else {
                let reason = String(cString: strerror(errno))
                missing += 1
                if missing <= InputListFile.noticesPerKind {
                    notice?("\(listPath):\(line.number): \(path): \(reason); it will be reported as failed")
                }
                files.append(InputFile(uri: path, relativePath: Self.lastComponent(of: path)))
            }
        }
        list.notices.forEach { notice?($0) }
        if missing > InputListFile.noticesPerKind {
            notice?("\(listPath): \(missing) listed files cannot be read; each will be reported as failed")
        }
        if let summary = list.summary { notice?(summary) }
        return (files, distinct)
    }

    /// Whether `location` holds `://` (an s3:// or other URI): a byte scan, not Foundation's
    /// `contains`, which costs microseconds a call at 10^6 inputs.
    static func hasScheme(_ location: String) -> Bool {
        var colonSlash = 0  // bytes of "://" matched so far
        for byte in location.utf8 {
            switch (colonSlash, byte) {
            case (_, UInt8(ascii: ":")): colonSlash = 1
            case (1, UInt8(ascii: "/")): colonSlash = 2
            case (2, UInt8(ascii: "/")): return true
            default: colonSlash = 0
            }
        }
        return false
    }

    /// The last path component, as NSString's lastPathComponent gives it, without bridging.
    static func lastComponent(of path: String) -> String {
        var end = path.utf8.endIndex
        while end > path.utf8.startIndex, path.utf8[path.utf8.index(before: end)] == UInt8(ascii: "/") {
            end = path.utf8.index(before: end)
        }
        if end == path.utf8.startIndex { return path.isEmpty ? "" : "/" }
        let trimmed = path.utf8[..<end]
        guard let slash = trimmed.lastIndex(of: UInt8(ascii: "/")) else { return String(path[..<end]) }
        return String(path[path.utf8.index(after: slash)..<end])
    }

    private func file(at path: String) throws -> InputFile {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let size = (attributes?[.size] as? NSNumber)?.int64Value ?? 0
        return InputFile(uri: path, relativePath: (path as NSString).lastPathComponent, size: size)
    }

    /// Every image below `directory`, named by its path relative to it, in key (byte) order:
    /// one walk with a stat per file (LocalStore's listing cursor), not a URL per entry. A
    /// directory of several subdirectories is walked in two halves at once (a stat per file is
    /// most of a 10^6-file listing, and the submitting machine's cores are idle meanwhile).
    private func walk(directory: String) throws -> [InputFile] {
        var files: [InputFile] = []
        do {
            if let middle = Self.middleKey(of: directory) {
                let (second, first) = Concurrently.run({
                    try Self.images(in: LocalStore(root: directory), after: middle, before: nil)
                }, while: { try Self.images(in: LocalStore(root: directory), after: nil, before: middle) })
                files = try first.get()
                files += try second.get()
            } else {
                files = try Self.images(in: LocalStore(root: directory), after: nil, before: nil)
            }
        } catch let error as StorageError {
            throw InputError.unreadable(error.location, reason: "cannot list directory: \(error.message)")
        }
        if files.isEmpty { throw InputError.noImages(directory) }
        return files
    }

    /// The images in `store` with keys after `after` and before `before` (byte order), in key order.
    private static func images(in store: LocalStore, after: String?, before: String?) throws -> [InputFile] {
        struct Passed: Error {}
        var files: [InputFile] = []
        do {
            try store.forEachObject(startAfter: after, pageSize: 10_000) { object in
                if let before, !object.key.utf8.lexicographicallyPrecedes(before.utf8) { throw Passed() }
                guard isImageName(object.key) else { return }
                files.append(InputFile(uri: store.root == "/" ? "/" + object.key : store.root + "/" + object.key,
                                       relativePath: object.key, size: Int64(object.size)))
            }
        } catch is Passed {}
        return files
    }

    /// A key between `directory`'s two halves: the middle one of its subdirectories (in key
    /// order) as a key prefix, `name/`, which no file's key equals. Nil with fewer than two
    /// subdirectories, or when the directory holds too many entries to look through first.
    private static func middleKey(of directory: String) -> String? {
        guard let handle = opendir(directory) else { return nil }
        defer { closedir(handle) }
        var names: [[UInt8]] = []
        var seen = 0
        while let record = readdir(handle) {
            seen += 1
            guard seen <= 100_000 else { return nil }
            guard Int32(record.pointee.d_type) == Int32(DT_DIR) else { continue }
            var name = withUnsafeBytes(of: record.pointee.d_name) { raw in
                Array(raw.prefix { $0 != 0 })
            }
            if name == [UInt8(ascii: ".")] || name == [UInt8(ascii: "."), UInt8(ascii: ".")] { continue }
            name.append(UInt8(ascii: "/"))
            names.append(name)
        }
        guard names.count >= 2 else { return nil }
        names.sort { $0.lexicographicallyPrecedes($1) }
        return String(validating: names[names.count / 2], as: UTF8.self)
    }

    private func glob(_ pattern: String) throws -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard Glibc.glob(pattern, 0, nil, &result) == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }
    }
}
