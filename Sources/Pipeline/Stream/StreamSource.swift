import Foundation
import Storage

/// The watched input, a directory or an S3 prefix, listed after the checkpoint's cursor.
final class StreamSource {
    /// What one listing found that the checkpoint has not settled.
    struct Listing {
        /// Complete files: renamed into place, unchanged for the settle time, or S3 objects.
        var complete: [StreamFile] = []
        /// Names seen but not complete yet (still being written).
        var pending: [String] = []
        /// When the first pending file becomes complete if left alone.
        var nextSettle: Date?
    }

    let store: ObjectStore
    let watcher: DirectoryWatcher?
    /// Files on a file system may be written in place; S3 objects appear whole.
    let needsSettling: Bool

    init(store: ObjectStore, watch: Bool) {
        self.store = store
        if case .file(let path) = store.location {
            needsSettling = true
            watcher = watch ? DirectoryWatcher(root: path) : nil
        } else {
            needsSettling = false
            watcher = nil
        }
    }

    /// Lists the images after the cursor that `checkpoint` has not settled, at most `limit` of
    /// them (the first in key order): a backlog of 10^5 frames is not listed whole for every batch.
    func list(after checkpoint: StreamCheckpoint, settleTime: TimeInterval, limit: Int = .max,
              now: Date = Date()) throws -> Listing {
        watcher?.drain()
        var listing = Listing()
        do {
            try collect(after: checkpoint, settleTime: settleTime, limit: limit, now: now, into: &listing)
        } catch is EnoughListed {}
        return listing
    }

    private struct EnoughListed: Error {}

    private func collect(after checkpoint: StreamCheckpoint, settleTime: TimeInterval, limit: Int, now: Date,
                         into listing: inout Listing) throws {
        try store.forEachObject(startAfter: checkpoint.cursor, pageSize: 1000) { object in
            guard Self.isCandidate(object.key), !checkpoint.isDone(object.key) else { return }
            guard listing.complete.count + listing.pending.count < limit else { throw EnoughListed() }
            let settles = object.modified.map { $0.addingTimeInterval(settleTime) } ?? now
            if !needsSettling || watcher?.wasRenamed(object.key) == true || settles <= now {
                let input = InputFile(uri: store.location(of: object.key).description, relativePath: object.key,
                                      size: Int64(object.size))
                listing.complete.append(StreamFile(input: input, landed: object.modified))
            } else {
                listing.pending.append(object.key)
                listing.nextSettle = min(listing.nextSettle ?? settles, settles)
            }
        }
    }

    /// An image name, not a hidden or temporary one (`.frame.fits.part`, rsync's `.f.fits.XXXX`).
    static func isCandidate(_ key: String) -> Bool {
        let name = key.split(separator: "/").last.map(String.init) ?? key
        return !name.hasPrefix(".") && !key.hasPrefix("_") && InputListing.isImageName(name)
    }
}

/// Which complete files a batch runs, and which the stream's policy skips (never silently: the
/// caller logs and records every one).
enum BatchSelection {
    static func select(_ complete: [StreamFile], settings: StreamSettings,
                       now: Date = Date()) -> (run: [StreamFile], skipped: [SkippedFile]) {
        var skipped: [SkippedFile] = []
        var eligible: [StreamFile] = []
        for file in complete {
            if let maxAge = settings.maxFileAge, let landed = file.landed, now.timeIntervalSince(landed) > maxAge {
                skipped.append(SkippedFile(key: file.input.relativePath, reason: String(
                    format: "last modified %.0f s ago, more than sextant.stream.maxFileAge (%.0f s)",
                    now.timeIntervalSince(landed), maxAge)))
            } else {
                eligible.append(file)
            }
        }
        eligible.sort { a, b in
            let (ta, tb) = (a.landed ?? .distantPast, b.landed ?? .distantPast)
            return ta != tb ? ta < tb : StreamCheckpoint.precedes(a.input.relativePath, b.input.relativePath)
        }
        let limit = settings.maxFilesPerBatch
        guard eligible.count > limit else { return (eligible, skipped) }
        switch settings.order {
        case .oldest:
            return (Array(eligible.prefix(limit)), skipped)
        case .newest:
            let older = eligible.dropLast(limit)
            skipped += older.map { SkippedFile(key: $0.input.relativePath, reason: "sextant.stream.order newest: "
                + "\(eligible.count) files waited and the newest \(limit) were taken") }
            return (Array(eligible.suffix(limit)), skipped)
        }
    }
}
