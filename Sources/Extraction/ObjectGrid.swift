/// Each object's pixel bounding box, binned into square cells: which objects can own a pixel
/// inside a given box, answered without reading the segmentation. FLAGS bit 1 asks it first,
/// because most objects' apertures hold no other detection's pixel, and then none of the
/// aperture's rows needs visiting.
struct ObjectGrid {
    /// Inclusive pixel bounds of one object's pixels (empty when xmin > xmax: no pixels).
    struct Box {
        var xmin = Int32.max, xmax = Int32.min, ymin = Int32.max, ymax = Int32.min

        func intersects(x: Range<Int>, y: Range<Int>) -> Bool {
            Int(xmin) < x.upperBound && Int(xmax) >= x.lowerBound && Int(ymin) < y.upperBound && Int(ymax) >= y.lowerBound
        }
    }

    let boxes: [Box]
    private let cell: Int, columns: Int, rows: Int
    /// Cell c's objects are members[cellStarts[c] ..< cellStarts[c + 1]] (object indices).
    private let cellStarts: [Int32]
    private let members: [Int32]

    init(_ pixels: ObjectPixels, width: Int, height: Int, cell: Int = 32) {
        let count = pixels.starts.count - 1
        var boxes = [Box](repeating: Box(), count: count)
        for object in 0..<count {
            var box = Box()
            for index in pixels.of(object) {
                let y = index / Int32(width), x = index - y * Int32(width)
                box.xmin = min(box.xmin, x); box.xmax = max(box.xmax, x)
                box.ymin = min(box.ymin, y); box.ymax = max(box.ymax, y)
            }
            boxes[object] = box
        }
        self.cell = cell
        columns = max((width + cell - 1) / cell, 1)
        rows = max((height + cell - 1) / cell, 1)
        // Two passes (count, then place), as a counting sort: one array for every cell's list.
        var starts = [Int32](repeating: 0, count: columns * rows + 1)
        Self.forEachCell(of: boxes, cell: cell, columns: columns) { cell, _ in starts[cell + 1] += 1 }
        for index in 0..<(columns * rows) { starts[index + 1] += starts[index] }
        var next = starts
        var members = [Int32](repeating: 0, count: Int(starts[columns * rows]))
        Self.forEachCell(of: boxes, cell: cell, columns: columns) { cell, object in
            members[Int(next[cell])] = Int32(object)
            next[cell] += 1
        }
        self.boxes = boxes
        cellStarts = starts
        self.members = members
    }

    private static func forEachCell(of boxes: [Box], cell: Int, columns: Int, _ body: (Int, Int) -> Void) {
        for (object, box) in boxes.enumerated() where box.xmin <= box.xmax {
            for cy in (Int(box.ymin) / cell)...(Int(box.ymax) / cell) {
                for cx in (Int(box.xmin) / cell)...(Int(box.xmax) / cell) { body(cy * columns + cx, object) }
            }
        }
    }

    /// Whether some object `accepts` whose box meets the half-open box `x` by `y` (inside the
    /// image). False means no pixel there belongs to such an object.
    func anyObject(meeting x: Range<Int>, _ y: Range<Int>, where accepts: (Int) -> Bool) -> Bool {
        guard !x.isEmpty, !y.isEmpty else { return false }
        for cy in (y.lowerBound / cell)...min((y.upperBound - 1) / cell, rows - 1) {
            for cx in (x.lowerBound / cell)...min((x.upperBound - 1) / cell, columns - 1) {
                let cellIndex = cy * columns + cx
                for slot in Int(cellStarts[cellIndex])..<Int(cellStarts[cellIndex + 1]) {
                    let object = Int(members[slot])
                    if boxes[object].intersects(x: x, y: y), accepts(object) { return true }
                }
            }
        }
        return false
    }
}
