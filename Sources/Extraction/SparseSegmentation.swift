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
        var entries: [(index: Int32, label: Int32)] = []
        entries.reserveCapacity(pixels.indices.count)
        for object in 0..<(pixels.starts.count - 1) {
            for index in pixels.of(object) { entries.append((index, Int32(object + 1))) }
        }
        // Deblended objects own disjoint pixels; sorting by index orders rows, then columns.
        entries.sort { $0.index < $1.index }
        var rowStarts = [Int](repeating: 0, count: height + 1)
        for entry in entries { rowStarts[Int(entry.index) / width + 1] += 1 }
        for row in 0..<height { rowStarts[row + 1] += rowStarts[row] }
        self.rowStarts = rowStarts
        columns = entries.map { $0.index % Int32(width) }
        labels = entries.map(\.label)
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
