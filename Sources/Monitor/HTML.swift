import Foundation

/// Escaping and formatting for server-rendered pages.
enum HTML {
    /// Escapes text for element content and quoted attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// Percent-encodes a path segment (job ids are restricted, but inputs of local runs are not).
    static func pathSegment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "._-"))) ?? text
    }

    static func page(title: String, refresh: Bool, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <title>\(escape(title)) - Sextant</title>
        \(refresh ? "<meta http-equiv=\"refresh\" content=\"2\">" : "")
        <style>
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em 2em;color:#1d2330;background:#fafbfc}
        header{display:flex;gap:1.5em;align-items:baseline;border-bottom:2px solid #2d4a7a;margin-bottom:1em}
        header h1{font-size:1.3em;margin:.3em 0;color:#2d4a7a} header a{color:#2d4a7a}
        table{border-collapse:collapse;margin:.5em 0 1.5em;background:#fff}
        th,td{border:1px solid #d5dae3;padding:.3em .7em;text-align:left;vertical-align:top}
        th{background:#eef1f6} td.n{text-align:right;font-variant-numeric:tabular-nums} td.nw{white-space:nowrap}
        .status{font-weight:600} .running{color:#1f6fd1} .succeeded{color:#1e7e34} .failed,.interrupted{color:#b3261e} .cancelled,.queued,.completedWithFailures{color:#7a6a00}
        .bar{width:16em;height:1em;background:#e3e7ee;border-radius:3px;overflow:hidden;display:inline-block;vertical-align:middle}
        .bar span{display:block;height:100%;background:#3a7bd5;float:left} .bar span.bad{background:#d0453a}
        dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em} dt{font-weight:600}
        code,.mono{font-family:ui-monospace,Menlo,monospace;font-size:.92em;word-break:break-all}
        button{background:#b3261e;color:#fff;border:0;padding:.4em 1em;border-radius:3px;cursor:pointer}
        .muted{color:#6b7280}
        .plots{display:flex;flex-wrap:wrap;gap:1em} svg.plot{border:1px solid #d5dae3}
        </style></head><body>
        <header><h1>Sextant</h1><a href="/">Jobs</a><a href="/executors">Executors</a><a href="/streams">Streams</a><a href="/metrics">Metrics</a><a href="/api/v1/jobs">API</a></header>
        \(body)
        </body></html>
        """
    }

    static func table(_ headers: [String], _ rows: [[String]], empty: String) -> String {
        guard !rows.isEmpty else { return "<p class=\"muted\">\(escape(empty))</p>" }
        let head = headers.map { "<th>\(escape($0))</th>" }.joined()
        let body = rows.map { "<tr>" + $0.joined() + "</tr>" }.joined(separator: "\n")
        return "<table><thead><tr>\(head)</tr></thead><tbody>\n\(body)\n</tbody></table>"
    }

    /// A cell of escaped text; `numeric` right-aligns it.
    static func cell(_ text: String, numeric: Bool = false) -> String {
        "<td\(numeric ? " class=\"n\"" : "")>\(escape(text))</td>"
    }

    /// A cell that does not wrap (executor ids, states).
    static func word(_ text: String) -> String {
        "<td class=\"nw\">\(escape(text))</td>"
    }

    static func status(_ status: String) -> String {
        "<span class=\"status \(escape(status))\">\(escape(label(status)))</span>"
    }

    /// Words for a status: a job that committed 24 of 25 catalogs completed; it did not fail.
    static func label(_ status: String) -> String {
        status == "completedWithFailures" ? "completed with failures" : status
    }
}

enum Format {
    static func duration(_ seconds: Double?) -> String {
        guard let seconds else { return "" }
        if seconds < 60 { return String(format: "%.1f s", seconds) }
        let total = Int(seconds.rounded())
        if total < 3600 { return "\(total / 60) min \(total % 60) s" }
        return "\(total / 3600) h \(total % 3600 / 60) min"
    }

    static func date(_ date: Date?) -> String {
        guard let date else { return "" }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return formatter.string(from: date)
    }

    static func bytes(_ bytes: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }
}
