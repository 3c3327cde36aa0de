import Foundation
import Settings

/// Makes the store for a location: `LocalStore` for paths and file:// URLs, `S3Store` for s3://.
public enum StoreFactory {
    /// - Parameters:
    ///   - location: where the store is rooted.
    ///   - settings: conf keys; `sextant.s3.*` as declared in Settings' `StorageKeys`, and
    ///     `sextant.storage.listPageSize` for local listings (default 1000).
    ///   - environment: where AWS_* variables are read from (credentials, region, profile).
    public static func makeStore(for location: StoreLocation, settings: [String: String] = [:],
                                 environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ObjectStore {
        switch location {
        case .file(let path):
            let conf = Configuration(settings)
            return LocalStore(root: path, defaultPageSize: try conf.value(of: StorageKeys.listPageSize),
                              isDurable: try conf.value(of: StorageKeys.fsync))
        case let .s3(bucket, prefix):
            let s3 = try S3Settings(settings: settings, environment: environment)
            let credentials = try CredentialChain.resolve(settings: s3, environment: environment,
                                                          location: location.description)
            return S3Store(bucket: bucket, prefix: prefix, settings: s3, credentials: credentials)
        }
    }

    /// Parses `location` and makes its store.
    public static func makeStore(for location: String, settings: [String: String] = [:],
                                 environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ObjectStore {
        try makeStore(for: StoreLocation(parsing: location), settings: settings, environment: environment)
    }
}
