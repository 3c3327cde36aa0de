import Foundation
import Storage

/// Lists the images under an s3:// prefix, named relative to the prefix like a directory's.
public enum RemoteInputs {
    public static func list(_ uri: String, settings: [String: String]) throws -> [InputFile] {
        let (store, prefix, bucketRoot) = try StoreCache.shared.storeAndKey(for: uri, settings: settings)
        let directoryPrefix = prefix.isEmpty || prefix.hasSuffix("/") ? prefix : prefix + "/"
        var files: [InputFile] = []
        // Pages flow straight into the inputs: one page of listing in memory, not the whole prefix twice.
        try store.forEachObject(prefix: prefix) { object in
            guard InputListing.isImageName(object.key) else { return }
            // A prefix that names one object is that object; otherwise it is a directory.
            let relative = object.key == prefix ? (object.key as NSString).lastPathComponent
                : object.key.hasPrefix(directoryPrefix) ? String(object.key.dropFirst(directoryPrefix.count)) : object.key
            files.append(InputFile(uri: bucketRoot + "/" + object.key, relativePath: relative, size: Int64(object.size)))
        }
        if files.isEmpty { throw InputError.noImages(uri) }
        return files
    }
}
