/// Keys both stores accept: not empty, relative, no empty, "." or ".." segments. The same rule
/// for files and S3 keeps a job's output names portable between them (and HTTP clients would
/// otherwise normalize dot segments away).
enum ObjectKey {
    static func validate(_ key: String, under location: StoreLocation) throws {
        let segments = key.split(separator: "/", omittingEmptySubsequences: false)
        guard !key.isEmpty, !segments.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            throw StorageError(.invalidArgument, location: location.appending(key).description,
                               message: "invalid key '\(key)' (empty, absolute, or with '.', '..' or empty segments)")
        }
    }
}
