/// Reading pixels around a source: VIGNET stamps and the background at its centroid.
enum Cutout {
    /// SExtractor's value for a stamp pixel outside the image or masked.
    static let missing: Float = -1e30

    /// The map's value at the pixel holding (x, y) (0-based, pixel centres at integers).
    static func value(_ map: [Float], width: Int, height: Int, x: Double, y: Double) -> Double {
        guard x.isFinite, y.isFinite else { return .nan }
        let column = min(max(Int(x.rounded()), 0), width - 1), row = min(max(Int(y.rounded()), 0), height - 1)
        return Double(map[row * width + column])
    }

    /// A `stampWidth` x `stampHeight` stamp, row by row, centred on the pixel holding (x, y),
    /// as SExtractor's VIGNET: the centre pixel at (w/2, h/2) of the stamp.
    static func stamp(_ pixels: [Float], mask: SkyImage.Mask?, width: Int, height: Int, x: Double, y: Double,
                      stampWidth: Int, stampHeight: Int) -> [Float] {
        var stamp = [Float](repeating: missing, count: stampWidth * stampHeight)
        guard x.isFinite, y.isFinite else { return stamp }
        let left = Int(x.rounded()) - stampWidth / 2, bottom = Int(y.rounded()) - stampHeight / 2
        for row in 0..<stampHeight {
            let imageRow = bottom + row
            guard imageRow >= 0, imageRow < height else { continue }
            for column in 0..<stampWidth {
                let imageColumn = left + column
                guard imageColumn >= 0, imageColumn < width else { continue }
                let index = imageRow * width + imageColumn
                if let mask, mask.isBad(index) { continue }
                stamp[row * stampWidth + column] = pixels[index]
            }
        }
        return stamp
    }
}
