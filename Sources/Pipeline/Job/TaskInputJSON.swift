import Foundation

extension InputFile {
    /// The input as a task's source record: its JSON (sorted keys), which the executor's first step
    /// decodes. Written from the fields: one JSONEncoder a task input was a few percent of a master's CPU.
    var taskRecord: String {
        var line: [UInt8] = []
        line.reserveCapacity(uri.utf8.count + relativePath.utf8.count + 64)
        var object = JSONObjectWriter(&line)
        object.integer("hdu", hdu, &line)
        object.string("relativePath", relativePath, &line)
        object.string("sha256", sha256, &line)
        object.integer("size", Int(size), &line)
        object.string("uri", uri, &line)
        line.append(UInt8(ascii: "}"))
        return String(decoding: line, as: UTF8.self)
    }
}
