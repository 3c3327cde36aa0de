import CFITSIO
import Foundation

/// Writes a FITS_LDAC catalog, the format SCAMP and PSFEx read: an empty primary HDU, then for
/// each image HDU an `LDAC_IMHEAD` table (one row, one cell "Field Header Card" holding the
/// image's header as 80-character cards, END included) followed by its `LDAC_OBJECTS` table.
public struct LDACWriter: Sendable {
    public struct Field: Sendable {
        /// The image header's 80-character records (END is added when missing).
        public var imageHeader: [String]
        /// The sources; its EXTNAME is set to LDAC_OBJECTS.
        public var objects: FITSTableWriter
        /// Cards appended to the image header, as SExtractor adds its SEXBKDEV etc. (PSFEx reads them).
        public var extraCards: [FITSCard]

        public init(imageHeader: [String], objects: FITSTableWriter, extraCards: [FITSCard] = []) {
            self.imageHeader = imageHeader
            self.objects = objects
            self.extraCards = extraCards
        }
    }

    public var fields: [Field]

    public init(fields: [Field]) {
        self.fields = fields
    }

    public func data(name: String = "<ldac>") throws -> Data {
        for field in fields { try field.objects.validate(name: name) }
        return try CFITSIOLock.run {
            let file = try CFITSIOFile.createInMemory(name: name)
            defer { file.close() }
            var axes: [Int64] = []
            try file.call("creating the primary HDU") { ffcrimll(file.pointer, 8, 0, &axes, &$0) }
            for field in fields {
                try writeImageHeader(field.imageHeader + field.extraCards.map { try Self.record($0, file: name) }, in: file)
                var objects = field.objects
                objects.extname = "LDAC_OBJECTS"
                try objects.append(to: file)
            }
            return try file.closeReturningBytes()
        }
    }

    /// One card as its 80-character record (CFITSIO formats it).
    static func record(_ card: FITSCard, file: String) throws -> String {
        let value: String
        switch card.value {
        case .string(let text)?: value = "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
        case .bool(let flag)?: value = flag ? "T" : "F"
        case .int(let number)?: value = String(number)
        case .double(let number)?: value = number.isFinite ? "\(number)".uppercased() : "0.0"
        case nil: value = ""
        }
        var record = [CChar](repeating: 0, count: Int(FLEN_CARD) + 1)
        var text = Array(value.utf8CString)
        var status: Int32 = 0
        ffmkky(card.keyword.uppercased(), &text, card.comment, &record, &status)
        guard status == 0 else {
            throw FITSError(file: file, reason: .invalidInput("cannot format keyword \(card.keyword) (CFITSIO status \(status))"))
        }
        return String(cString: record)
    }

    private func writeImageHeader(_ records: [String], in file: CFITSIOFile) throws {
        var cards = records.map { String($0.prefix(80)).padding(toLength: 80, withPad: " ", startingAt: 0) }
            .filter { !$0.hasPrefix("END     ") }
        cards.append("END".padding(toLength: 80, withPad: " ", startingAt: 0))
        let names = CStringArray(["Field Header Card"])
        let formats = CStringArray(["\(80 * cards.count)A"])
        let units = CStringArray([""])
        try file.call("creating LDAC_IMHEAD") {
            ffcrtb(file.pointer, BINARY_TBL, 1, 1, names.pointers, formats.pointers, units.pointers, "LDAC_IMHEAD", &$0)
        }
        var dimensions: [Int64] = [80, Int64(cards.count)]
        try file.call("writing TDIM1") { ffptdmll(file.pointer, 1, 2, &dimensions, &$0) }
        let text = CStringArray([cards.joined()])
        try file.call("writing the image header") { ffpcls(file.pointer, 1, 1, 1, 1, text.pointers, &$0) }
    }
}

extension FITSTableWriter {
    /// One file holding several tables, one extension each, after an empty primary HDU
    /// (a multi-extension image's catalogs: one table per image HDU).
    public static func data(of tables: [FITSTableWriter], name: String = "<tables>") throws -> Data {
        if tables.count == 1 { return try tables[0].data(name: name) }
        for table in tables { try table.validate(name: name) }
        return try CFITSIOLock.run {
            let file = try CFITSIOFile.createInMemory(name: name)
            defer { file.close() }
            var axes: [Int64] = []
            try file.call("creating the primary HDU") { ffcrimll(file.pointer, 8, 0, &axes, &$0) }
            for table in tables { try table.append(to: file) }
            return try file.closeReturningBytes()
        }
    }
}
