import CFITSIO

/// The checks that stand between a header's claims and an allocation: every size is computed
/// with checked arithmetic, bounded by `InputLimits`, and compared with the bytes really there.
extension ImageReader {
    /// NAXIS1 x NAXIS2 (ZNAXISn for a compressed image), within `limits.maxPixels`.
    func checkedPixelCount(_ axes: [Int], hdu: Int) throws -> Int {
        let shape = axes.map(String.init).joined(separator: " x ")
        guard let count = CheckedSize.product(axes), count <= limits.maxPixels else {
            throw FITSError(file: file.name, reason: .tooLarge(
                "HDU \(hdu) is \(shape) pixels, more than sextant.input.maxPixels = \(limits.maxPixels)"))
        }
        return count
    }

    /// The HDU's data (for a compressed image, its table and heap) must lie within the file.
    func checkDataIsPresent(hdu: Int) throws {
        guard let length = file.length else { return }
        var headerStart: Int64 = 0, dataStart: Int64 = 0, dataEnd: Int64 = 0
        try file.call("locating the data") { ffghadll(file.pointer, &headerStart, &dataStart, &dataEnd, &$0) }
        guard let size = try rawDataSize(hdu: hdu), let needed = CheckedSize.sum(Int(dataStart), size) else {
            throw FITSError(file: file.name, reason: .tooLarge("the header of HDU \(hdu) declares a data size that overflows"))
        }
        if needed > length {
            throw FITSError(file: file.name, reason: .truncated(
                "HDU \(hdu) needs \(needed) bytes but the file has only \(length)"))
        }
    }

    /// The size of the data unit without its padding, from the stored header (for a compressed
    /// image, the table that holds it): |BITPIX|/8 x GCOUNT x (PCOUNT + NAXIS1 x ... x NAXISn).
    /// Nil when it overflows or a count is negative.
    private func rawDataSize(hdu: Int) throws -> Int? {
        let naxis = try storedKey("NAXIS")
        guard naxis > 0 else { return 0 }
        guard naxis <= 999 else { return nil }
        let bitpix = try storedKey("BITPIX")
        guard [8, 16, 32, 64, -32, -64].contains(bitpix) else {
            throw FITSError(file: file.name, reason: .invalidInput("HDU \(hdu) has BITPIX = \(bitpix), not 8, 16, 32, 64, -32 or -64"))
        }
        let axes = try (1...naxis).map { try storedKey("NAXIS\($0)") }
        guard let pixels = CheckedSize.product(axes),
              let perGroup = CheckedSize.sum(try storedKey("PCOUNT", default: 0), pixels) else { return nil }
        return CheckedSize.product([abs(bitpix) / 8, try storedKey("GCOUNT", default: 1), perGroup])
    }

    /// A tile-compressed image: each tile within `maxPixels`, one table row per tile, and every
    /// row's compressed bytes inside the heap, so no tile buffer is sized by a lie.
    func checkCompressedTiles(hdu: Int) throws {
        var status: Int32 = 0
        guard fits_is_compressed_image(file.pointer, &status) != 0 else { return }
        let name = file.name
        let dimensions = try storedKey("ZNAXIS")
        guard (1...999).contains(dimensions) else {
            throw FITSError(file: name, reason: .invalidInput("HDU \(hdu) has ZNAXIS = \(dimensions)"))
        }
        let sizes = try (1...dimensions).map { try storedKey("ZNAXIS\($0)") }
        let tiles = try (1...dimensions).map { try storedKey("ZTILE\($0)", default: $0 == 1 ? Int64(sizes[0]) : 1) }
        guard tiles.allSatisfy({ $0 >= 1 }), let tilePixels = CheckedSize.product(tiles), tilePixels <= limits.maxPixels else {
            throw FITSError(file: name, reason: .tooLarge(
                "HDU \(hdu) has compression tiles of \(tiles.map(String.init).joined(separator: " x ")) pixels,"
                + " more than sextant.input.maxPixels = \(limits.maxPixels) or not positive"))
        }
        let tileCount = CheckedSize.product(zip(sizes, tiles).map { ($0 + $1 - 1) / $1 }) ?? Int.max
        let rows = try storedKey("NAXIS2")
        guard rows >= tileCount else {
            throw FITSError(file: name, reason: .invalidInput(
                "HDU \(hdu) is a compressed image of \(tileCount) tiles stored in only \(rows) table rows"))
        }
        let heap = try storedKey("PCOUNT", default: 0)
        let compression = try storedString("ZCMPTYPE")?.uppercased() ?? ""
        // A tile inflates to at most its pixels at 8 bytes each.
        let tileBytes = CheckedSize.product([tilePixels, 8]) ?? Int.max
        let rice = compression.hasPrefix("RICE")
            ? TileCheck.rice(try riceParameters(hdu: hdu), pixels: { Self.pixels(inTile: $0 - 1, sizes: sizes, tiles: tiles) })
            : nil
        for column in ["COMPRESSED_DATA", "GZIP_COMPRESSED_DATA", "UNCOMPRESSED_DATA"] {
            let check: TileCheck? = switch column {
            case "GZIP_COMPRESSED_DATA": .inflates(tileBytes)
            case "COMPRESSED_DATA": compression.hasPrefix("GZIP") ? .inflates(tileBytes) : rice
            default: nil
            }
            try checkDescriptors(column: column, rows: tileCount, heap: heap, hdu: hdu, check: check)
        }
    }

    /// What is checked of each tile's bytes before CFITSIO reads them.
    private enum TileCheck {
        /// A gzip stream that must inflate whole within this many bytes.
        case inflates(Int)
        /// A Rice stream that must hold the tile's pixels (given its 1-based row).
        case rice(RiceStream, pixels: (Int) -> Int)
    }

    /// BLOCKSIZE and BYTEPIX from the ZNAMEn / ZVALn pairs, with CFITSIO's defaults (32, 4).
    private func riceParameters(hdu: Int) throws -> RiceStream {
        var stream = RiceStream(blockSize: 32, bytesPerPixel: 4)
        for index in 1...99 {
            guard let name = try storedString("ZNAME\(index)")?.uppercased() else { break }
            if name == "BLOCKSIZE" { stream.blockSize = try storedKey("ZVAL\(index)") }
            if name == "BYTEPIX" { stream.bytesPerPixel = try storedKey("ZVAL\(index)") }
        }
        guard stream.blockSize >= 1 else {
            throw FITSError(file: file.name, reason: .invalidInput("HDU \(hdu) has a Rice BLOCKSIZE of \(stream.blockSize)"))
        }
        return stream
    }

    /// The pixels of tile `index` (0-based, first axis fastest): edge tiles are cut by the image.
    static func pixels(inTile index: Int, sizes: [Int], tiles: [Int]) -> Int {
        var rest = index, pixels = 1
        for (size, tile) in zip(sizes, tiles) {
            let count = (size + tile - 1) / tile
            let position = rest % max(1, count)
            rest /= max(1, count)
            pixels *= max(0, min(tile, size - position * tile))
        }
        return pixels
    }

    /// Every row's (length, offset) in a variable-length column points inside the heap.
    /// With `.inflates`, each row's bytes are a gzip stream that must inflate whole within that
    /// many bytes: CFITSIO would grow its buffer for a damaged one until memory runs out. With
    /// `.rice`, each row's bits must hold its tile (RiceStream: CFITSIO would read past them).
    private func checkDescriptors(column: String, rows: Int, heap: Int, hdu: Int, check: TileCheck?) throws {
        var status: Int32 = 0
        var number: Int32 = 0
        var template = Array(column.utf8CString)
        ffgcno(file.pointer, CASEINSEN, &template, &number, &status)
        guard status == 0 else { return }  // the column is optional
        var type: Int32 = 0, width: Int64 = 0, repeatCount: Int64 = 0
        try file.call("reading the \(column) column") { ffgtclll(file.pointer, number, &type, &repeatCount, &width, &$0) }
        let elementBytes = max(1, Int(width))
        var inflatedBytes: Int?
        if case .inflates(let bytes) = check { inflatedBytes = bytes }
        let buffer = inflatedBytes.map { UnsafeMutablePointer<CChar>.allocate(capacity: max(1, $0)) }
        defer { buffer?.deallocate() }
        for row in stride(from: 1, through: rows, by: 1) {
            var length: Int64 = 0, offset: Int64 = 0
            try file.call("reading the \(column) descriptor of row \(row)") {
                ffgdesll(file.pointer, number, Int64(row), &length, &offset, &$0)
            }
            guard let bytes = CheckedSize.product([Int(length), elementBytes]),
                  let end = CheckedSize.sum(Int(offset), bytes), end <= heap else {
                throw FITSError(file: file.name, reason: .invalidInput(
                    "HDU \(hdu): tile \(row) claims \(length) elements at heap offset \(offset), beyond the heap's \(heap) bytes"))
            }
            if let buffer, let inflatedBytes, length > 0 {
                try checkInflates(column: number, row: row, length: Int(length), into: buffer, capacity: inflatedBytes, hdu: hdu)
            }
            if case .rice(let stream, let pixels) = check, length > 0 {
                let compressed = try tileBytes(column: number, row: row, length: Int(length))
                guard compressed.withUnsafeBufferPointer({ stream.holds($0, pixels: pixels(row)) }) else {
                    throw FITSError(file: file.name, reason: .invalidInput(
                        "HDU \(hdu): Rice-compressed tile \(row) ends before its \(pixels(row)) pixels"))
                }
            }
        }
    }

    private func checkInflates(column: Int32, row: Int, length: Int, into buffer: UnsafeMutablePointer<CChar>,
                               capacity: Int, hdu: Int) throws {
        var compressed = try tileBytes(column: column, row: row, length: length)
        let whole = compressed.withUnsafeMutableBytes { bytes in
            Gunzip.inflates(bytes.baseAddress!.assumingMemoryBound(to: CChar.self), count: length, into: buffer, capacity: capacity)
        }
        if whole == false {
            throw FITSError(file: file.name, reason: .invalidInput(
                "HDU \(hdu): gzip'd tile \(row) is damaged or inflates past its \(capacity / 8) pixels"))
        }
    }

    /// The stored bytes of one tile (CFITSIO's own bounded read of a variable-length cell).
    private func tileBytes(column: Int32, row: Int, length: Int) throws -> [UInt8] {
        var compressed = [UInt8](repeating: 0, count: length)
        var anyNull: Int32 = 0
        try file.call("reading tile \(row)") { ffgcvb(file.pointer, column, Int64(row), 1, Int64(length), 0, &compressed, &anyNull, &$0) }
        return compressed
    }

    func storedString(_ keyword: String) throws -> String? {
        var value = [CChar](repeating: 0, count: 72)
        var status: Int32 = 0
        ffgkys(file.pointer, keyword, &value, nil, &status)
        if status == CFITSIOStatus.keywordNotFound { return nil }
        try check(status, reading: "reading \(keyword)", hdu: nil)
        return String(cString: value)
    }

    /// An integer keyword of the stored header (for a compressed image, of its table).
    func storedKey(_ keyword: String, default value: Int64? = nil) throws -> Int {
        var number: Int64 = 0
        var status: Int32 = 0
        ffgkyjj(file.pointer, keyword, &number, nil, &status)
        if status == CFITSIOStatus.keywordNotFound, let value { return Int(value) }
        try check(status, reading: "reading \(keyword)", hdu: nil)
        return Int(number)
    }
}
