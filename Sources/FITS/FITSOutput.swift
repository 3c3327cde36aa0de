import Foundation

/// Writes finished file bytes to a path: a temporary name, then a rename.
enum FITSOutput {
    static func write(_ data: Data, to path: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw FITSError(file: path, reason: .unwritable(error.localizedDescription))
        }
    }
}
