import Foundation

/// A job's frame table: the plots people look at first (background and FWHM against time,
/// sources per frame, footprints on the sky), then the rows.
enum FramePages {
    static let rowsShown = 500

    static func frames(_ list: FrameList, finished: Bool) -> String {
        let frames = list.frames
        let timed = frames.contains { $0.mjd != nil }
        // Against time when the headers say when; else against the order frames arrived in.
        let x: (Int, FrameRecord) -> Double = { index, frame in timed ? frame.mjd ?? .nan : Double(index) }
        let xLabel = timed ? "MJD" : "frame (arrival order)"
        let background = SVGPlot(title: "Background level", xLabel: xLabel, yLabel: "counts")
            .points(frames.enumerated().map { (x($0.offset, $0.element), $0.element.background) })
        let fwhm = SVGPlot(title: "Median FWHM of point sources", xLabel: xLabel, yLabel: "pixels")
            .points(frames.enumerated().compactMap { index, frame in frame.fwhm.map { (x(index, frame), $0) } })
        let counts = SVGPlot(title: "Sources per frame", xLabel: "frame", yLabel: "sources")
            .bars(frames.map { Double($0.sources) })
        let footprints = SVGPlot(title: "Footprints on the sky", xLabel: "RA (deg)", yLabel: "Dec (deg)", reversedX: true)
            .polygons(skyShapes(frames))
        let keywordNames = Array(Set(frames.flatMap { $0.keywords?.keys.map { $0 } ?? [] })).sorted()
        let rows = frames.prefix(rowsShown).map { frame -> [String] in
            [
                "<td class=\"mono\">\(HTML.escape(frame.input))</td>", HTML.cell("\(frame.hdu)", numeric: true),
                HTML.word(frame.extname ?? ""),
            ] + keywordNames.map { HTML.cell(frame.keywords?[$0] ?? "") } + [
                HTML.cell(number(frame.background), numeric: true), HTML.cell(number(frame.rms), numeric: true),
                HTML.cell("\(frame.sources)", numeric: true), HTML.cell(frame.fwhm.map(number) ?? "", numeric: true),
                HTML.cell(frame.depthMagnitude.map { String(format: "%.2f mag", $0) } ?? frame.depth.map(number) ?? "", numeric: true),
                HTML.cell(frame.ra.map { String(format: "%.5f", $0) } ?? "no WCS", numeric: true),
                HTML.cell(frame.dec.map { String(format: "%.5f", $0) } ?? "", numeric: true),
                HTML.cell(String(format: "%.1f%%", frame.flagged * 100), numeric: true),
            ]
        }
        let shown = frames.count > rowsShown ? " (the first \(rowsShown) shown)" : ""
        let dropped = list.dropped > 0 ? " \(list.dropped) more rows are only in the job's _frames.fits and _frames.csv." : ""
        let body = """
        <h2>Frames of job <a class="mono" href="/jobs/\(HTML.pathSegment(list.job))">\(HTML.escape(list.job))</a></h2>
        <p>\(frames.count) image HDUs\(shown).\(dropped) <a href="/api/v1/jobs/\(HTML.pathSegment(list.job))/frames">JSON</a></p>
        <div class="plots">\(background)\(fwhm)\(counts)\(footprints)</div>
        <h3>Frame table</h3>
        \(HTML.table(["Input", "HDU", "EXTNAME"] + keywordNames + ["Background", "RMS", "Sources", "FWHM (px)", "5σ depth", "RA", "Dec", "Flagged"],
                     rows, empty: "No frame measured yet."))
        """
        return HTML.page(title: "Frames of \(list.job)", refresh: !finished, body: body)
    }

    /// Each frame's corners, with right ascensions unwrapped around the first frame's so a
    /// field across RA 0 is not drawn across the whole sky.
    static func skyShapes(_ frames: [FrameRecord]) -> [[(Double, Double)]] {
        let reference = frames.compactMap(\.ra).first ?? 0
        return frames.compactMap { frame in
            guard let corners = frame.corners, corners.count == 8 else { return nil }
            return stride(from: 0, to: 8, by: 2).map { index in
                var alpha = corners[index]
                while alpha - reference > 180 { alpha -= 360 }
                while alpha - reference < -180 { alpha += 360 }
                return (alpha, corners[index + 1])
            }
        }
    }

    private static func number(_ value: Double) -> String {
        abs(value) >= 1000 ? String(format: "%.0f", value) : String(format: "%.3g", value)
    }
}
