/// The segmentation map held only where objects are: each detected pixel's column and label,
/// sorted by row then column, with where each row starts. 8 bytes a detected pixel and 8 a row,
/// instead of 4 bytes for every pixel of the image (256 MiB for an 8192² frame): FLAGS bit 1
/// needs the map for every image, so its size follows the objects, not the frame.
struct SparseSegmentation {
    let width: Int
    private var rowStarts: [Int]
    private var columns: [Int32]
    private var labels: [Int32]

    init(_ pixels: ObjectPixels, width: Int, height: Int) {
        self.width = width
        // A counting sort by row (one pass to count, one to place), then each row's few entries
        // by column: linear in the detected pixels, where sorting them all was n log n.
        var rowStarts = [Int](repeating: 0, count: height + 1)
        for index in pixels.indices { rowStarts[Int(index) / width + 1] += 1 }
        for row in 0..<height { rowStarts[row + 1] += rowStarts[row] }
        var next = rowStarts
        var columns = [Int32](repeating: 0, count: pixels.indices.count)
        var labels = [Int32](repeating: 0, count: pixels.indices.count)
        for object in 0..<(pixels.starts.count - 1) {
            for index in pixels.of(object) {
                let row = Int(index) / width, slot = next[row]
                next[row] += 1
                columns[slot] = index - Int32(row * width)
                labels[slot] = Int32(object + 1)
            }
        }
        // Deblended objects own disjoint pixels, so columns within a row are distinct.
        for row in 0..<height where rowStarts[row + 1] - rowStarts[row] > 1 {
            Self.sortRow(columns: &columns, labels: &labels, rowStarts[row]..<rowStarts[row + 1])
        }
        self.rowStarts = rowStarts
        self.columns = columns
        self.labels = labels
    }

    /// Sorts one row's entries by column: insertion sort for the usual handful (often already in
    /// order: SEP lists an object's pixels row by row), else the library's sort of plain
    /// integers, each column and label packed in one (no closure, no pairs).
    private static func sortRow(columns: inout [Int32], labels: inout [Int32], _ range: Range<Int>) {
        guard range.count <= 32 else {
            var packed = range.map { UInt64(UInt32(bitPattern: columns[$0])) << 32 | UInt64(UInt32(bitPattern: labels[$0])) }
            packed.sort()
            for (slot, value) in zip(range, packed) {
                columns[slot] = Int32(bitPattern: UInt32(value >> 32))
                labels[slot] = Int32(bitPattern: UInt32(truncatingIfNeeded: value))
            }
            return
        }
        for i in (range.lowerBound + 1)..<range.upperBound {
            let column = columns[i], label = labels[i]
            var j = i
            while j > range.lowerBound, columns[j - 1] > column {
                columns[j] = columns[j - 1]
                labels[j] = labels[j - 1]
                j -= 1
            }
            columns[j] = column
            labels[j] = label
        }
    }

    /// The label (object NUMBER) at pixel `index`, 0 where no object is.
    func label(at index: Int) -> Int32 {
        let row = index / width, column = Int32(index % width)
        var low = rowStarts[row], high = rowStarts[row + 1]
        while low < high {
            let middle = (low + high) / 2
            if columns[middle] < column { low = middle + 1 } else { high = middle }
        }
        return low < rowStarts[row + 1] && columns[low] == column ? labels[low] : 0
    }

    /// Calls `body(a, b)` for each two 8-connected pixels with different labels, seen once from
    /// the upper or left one: a merge of each row with itself and with the row below, linear in
    /// the detected pixels (no lookup per neighbour).
    func forEachTouchingPair(_ body: (Int32, Int32) -> Void) {
        let height = rowStarts.count - 1
        for row in 0..<height {
            let start = rowStarts[row], end = rowStarts[row + 1]
            guard start < end else { continue }
            for k in start..<(end - 1) where columns[k + 1] == columns[k] + 1 && labels[k + 1] != labels[k] {
                body(labels[k], labels[k + 1])
            }
            guard row + 1 < height else { continue }
            // Below: the pixels of the next row within one column, by a pointer that only advances.
            var below = rowStarts[row + 1]
            let belowEnd = rowStarts[row + 2]
            for k in start..<end {
                let column = columns[k]
                while below < belowEnd, columns[below] < column - 1 { below += 1 }
                var m = below
                while m < belowEnd, columns[m] <= column + 1 {
                    if labels[m] != labels[k] { body(labels[k], labels[m]) }
                    m += 1
                }
            }
        }
    }

    /// Calls `body(x, label)` for each labelled pixel of row `row` with `x` in `xRange`, in order.
    func forEachLabel(row: Int, in xRange: Range<Int>, _ body: (Int, Int32) -> Void) {
        var low = rowStarts[row], high = rowStarts[row + 1]
        let end = high, first = Int32(xRange.lowerBound)
        while low < high {
            let middle = (low + high) / 2
            if columns[middle] < first { low = middle + 1 } else { high = middle }
        }
        var k = low
        while k < end, Int(columns[k]) < xRange.upperBound {
            body(Int(columns[k]), labels[k])
            k += 1
        }
    }
}
