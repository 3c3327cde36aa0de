import Foundation

/// Small server-rendered SVG charts (no script, so they render anywhere, headless browsers too):
/// points against x, bars, and polygons, each with a framed plot area and labelled ticks.
struct SVGPlot {
    static let width = 520.0, height = 300.0
    private static let left = 64.0, right = 16.0, top = 28.0, bottom = 44.0
    /// The marker colour (tests look for it in a rendered page).
    static let ink = "#d1495b"

    var title: String
    var xLabel: String
    var yLabel: String
    /// Right ascension grows to the left on the sky.
    var reversedX = false

    func points(_ points: [(Double, Double)]) -> String {
        let finite = points.filter { $0.0.isFinite && $0.1.isFinite }
        guard let frame = Frame(xs: finite.map(\.0), ys: finite.map(\.1), reversedX: reversedX) else { return empty() }
        let marks = finite.map { point in
            "<circle cx=\"\(f(frame.x(point.0)))\" cy=\"\(f(frame.y(point.1)))\" r=\"3.5\" fill=\"\(Self.ink)\"/>"
        }
        return svg(frame, marks.joined())
    }

    func bars(_ values: [Double]) -> String {
        let ys = values.filter(\.isFinite)
        guard !ys.isEmpty, let frame = Frame(xs: [0, Double(values.count)], ys: ys + [0], reversedX: false) else { return empty() }
        let step = (Self.width - Self.left - Self.right) / Double(max(values.count, 1))
        let marks = values.enumerated().compactMap { index, value -> String? in
            guard value.isFinite else { return nil }
            let top = frame.y(value), base = frame.y(0)
            return "<rect x=\"\(f(frame.x(Double(index)) + step * 0.1))\" y=\"\(f(min(top, base)))\" width=\"\(f(max(step * 0.8, 0.5)))\" height=\"\(f(max(abs(base - top), 0.5)))\" fill=\"\(Self.ink)\"/>"
        }
        return svg(frame, marks.joined())
    }

    func polygons(_ shapes: [[(Double, Double)]]) -> String {
        let all = shapes.flatMap { $0 }.filter { $0.0.isFinite && $0.1.isFinite }
        guard let frame = Frame(xs: all.map(\.0), ys: all.map(\.1), reversedX: reversedX) else { return empty() }
        let marks = shapes.map { shape in
            let path = shape.map { "\(f(frame.x($0.0))),\(f(frame.y($0.1)))" }.joined(separator: " ")
            return "<polygon points=\"\(path)\" fill=\"\(Self.ink)\" fill-opacity=\"0.25\" stroke=\"\(Self.ink)\" stroke-width=\"1.5\"/>"
        }
        return svg(frame, marks.joined())
    }

    private func empty() -> String {
        "<svg class=\"plot\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(Self.width))\" height=\"60\" role=\"img\"><text x=\"8\" y=\"20\" font-size=\"14\" font-weight=\"600\">\(HTML.escape(title))</text><text x=\"8\" y=\"44\" font-size=\"12\">no values yet</text></svg>"
    }

    private func svg(_ frame: Frame, _ marks: String) -> String {
        var ticks = ""
        for value in frame.xTicks {
            ticks += "<text x=\"\(f(frame.x(value)))\" y=\"\(f(Self.height - Self.bottom + 16))\" font-size=\"11\" text-anchor=\"middle\">\(label(value, span: frame.x1 - frame.x0))</text>"
        }
        for value in frame.yTicks {
            ticks += "<text x=\"\(f(Self.left - 6))\" y=\"\(f(frame.y(value) + 4))\" font-size=\"11\" text-anchor=\"end\">\(label(value, span: frame.y1 - frame.y0))</text>"
            ticks += "<line x1=\"\(f(Self.left))\" x2=\"\(f(Self.width - Self.right))\" y1=\"\(f(frame.y(value)))\" y2=\"\(f(frame.y(value)))\" stroke=\"#e3e7ee\"/>"
        }
        return """
        <svg class="plot" xmlns="http://www.w3.org/2000/svg" width="\(f(Self.width))" height="\(f(Self.height))" role="img" aria-label="\(HTML.escape(title))">\
        <rect x="0" y="0" width="\(f(Self.width))" height="\(f(Self.height))" fill="#fff"/>\
        <text x="\(f(Self.left))" y="18" font-size="14" font-weight="600">\(HTML.escape(title))</text>\
        \(ticks)\
        <rect x="\(f(Self.left))" y="\(f(Self.top))" width="\(f(Self.width - Self.left - Self.right))" height="\(f(Self.height - Self.top - Self.bottom))" fill="none" stroke="#8a94a6"/>\
        \(marks)\
        <text x="\(f((Self.left + Self.width - Self.right) / 2))" y="\(f(Self.height - 8))" font-size="12" text-anchor="middle">\(HTML.escape(xLabel))</text>\
        <text x="14" y="\(f((Self.top + Self.height - Self.bottom) / 2))" font-size="12" text-anchor="middle" transform="rotate(-90 14 \(f((Self.top + Self.height - Self.bottom) / 2)))">\(HTML.escape(yLabel))</text>\
        </svg>
        """
    }

    private func f(_ value: Double) -> String { String(format: "%.1f", value) }

    /// As many decimals as the axis' span needs to tell its ticks apart (MJD 60000.1 from 60000.3).
    private func label(_ value: Double, span: Double) -> String {
        let decimals = span > 0 ? min(max(Int((-log10(span / 5)).rounded(.up)), 0), 8) : 2
        return String(format: "%.\(decimals)f", value)
    }

    /// Data ranges mapped onto the plot area, padded a little so no mark sits on the frame.
    private struct Frame {
        let x0: Double, x1: Double, y0: Double, y1: Double
        let reversedX: Bool

        init?(xs: [Double], ys: [Double], reversedX: Bool) {
            guard let xMin = xs.min(), let xMax = xs.max(), let yMin = ys.min(), let yMax = ys.max() else { return nil }
            let xPad = xMax > xMin ? (xMax - xMin) * 0.05 : max(abs(xMin) * 0.05, 0.5)
            let yPad = yMax > yMin ? (yMax - yMin) * 0.08 : max(abs(yMin) * 0.05, 0.5)
            (x0, x1, y0, y1) = (xMin - xPad, xMax + xPad, yMin - yPad, yMax + yPad)
            self.reversedX = reversedX
        }

        func x(_ value: Double) -> Double {
            let t = (value - x0) / (x1 - x0)
            return SVGPlot.left + (reversedX ? 1 - t : t) * (SVGPlot.width - SVGPlot.left - SVGPlot.right)
        }

        func y(_ value: Double) -> Double {
            SVGPlot.height - SVGPlot.bottom - (value - y0) / (y1 - y0) * (SVGPlot.height - SVGPlot.top - SVGPlot.bottom)
        }

        var xTicks: [Double] { (0...4).map { x0 + (x1 - x0) * (0.1 + 0.2 * Double($0)) } }
        var yTicks: [Double] { (0...4).map { y0 + (y1 - y0) * (0.1 + 0.2 * Double($0)) } }
    }
}
