import Engine
import Foundation
import Storage

/// The lazy split of large multi-extension files, in the task that opens them: no header is read
/// at plan time. A file with more image HDUs than `sextant.extract.splitHDUsAbove` is not extracted
/// by its task: each image HDU goes back to the scheduler as a task of its own (`TaskContext.addPartitions`),
/// whose input is the file with `InputFile.hdu` set, and which commits that HDU's own catalog.
struct HDUSplitting {
    /// Split files with more image HDUs than this; 0 when this task may not split (the job takes
    /// no handed-back work, or the conf key is 0).
    let threshold: Int
    /// Keep the HDUs whose catalogs are committed already (`--resume`): they are not handed back.
    let keepsCommitted: Bool
    /// How many more partitions this task may hand back.
    private var room: Int

    init(context: TaskContext) throws {
        let conf = Configuration(context.settings)
        room = context.maxAddedPartitions
        let configured = try conf.value(of: HDUSplitKeys.splitAbove)
        threshold = room > 0 ? configured : 0
        keepsCommitted = try conf.value(of: HDUSplitKeys.keepCommitted)
    }

    /// The split file's record (its parts, `ManifestEntry.splitParts`) after handing back the HDUs
    /// to extract; nil when they are more than this task may hand back.
    mutating func handBack(_ input: InputFile, hdus: [Int], sha256: String?, catalog: String, format: CatalogFormat,
                           output: ObjectStore, started: Date, context: TaskContext) throws -> ManifestEntry? {
        var parts: [SplitPart] = []
        var handed: [[String]] = []
        for hdu in hdus {
            let name = format.catalogName(for: input.relativePath, hdu: hdu)
            if keepsCommitted, let committed = try output.head(name) {
                parts.append(SplitPart(hdu: hdu, catalog: name, keptBytes: committed.size))
                continue
            }
            parts.append(SplitPart(hdu: hdu, catalog: name))
            var part = input
            part.hdu = hdu
            part.sha256 = sha256
            handed.append([String(decoding: try JSONEncoder().encode(part), as: UTF8.self)])
        }
        guard handed.count <= room else { return nil }
        room -= handed.count
        context.addPartitions(handed)
        var entry = ManifestEntry(input: input.uri, catalog: catalog, outcome: .committed,
                                  seconds: Date().timeIntervalSince(started), executor: context.executor)
        entry.splitParts = parts
        return entry
    }
}
