import Foundation

extension S3Store {
    /// The whole object and its ETag (unquoted) from one GET: provenance without a HEAD.
    public func getWithETag(_ key: String) throws -> (data: Data, etag: String?) {
        try ObjectKey.validate(key, under: location)
        let response = try perform(S3Request(method: "GET", key: key), location: location(of: key).description)
        return (response.body, response.header("etag")?.trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
    }
}
