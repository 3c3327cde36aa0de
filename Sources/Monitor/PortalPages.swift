import Foundation

/// The portal's pages: login, the job table with downloads, the submit form, and the job page
/// with a task timeline. No scripts (the CSP forbids them): live pages refresh themselves.
enum PortalPages {
    struct Parameter {
        let name: String
        let label: String
        let help: String
    }

    /// The form's extraction parameters: `sextant submit`'s flags, with their defaults in the help.
    static let parameters: [Parameter] = [
        Parameter(name: "threshold", label: "Detection threshold", help: "in units of the noise (default 1.5)"),
        Parameter(name: "minarea", label: "Minimum area", help: "pixels above threshold (default 5)"),
        Parameter(name: "deblend-nthresh", label: "Deblending thresholds", help: "sub-thresholds (default 32)"),
        Parameter(name: "deblend-cont", label: "Deblending contrast", help: "minimum contrast (default 0.005)"),
        Parameter(name: "back-size", label: "Background mesh", help: "pixels, W or WxH (default 64)"),
        Parameter(name: "apertures", label: "Aperture radii", help: "pixels, comma separated (default 3)"),
        Parameter(name: "zeropoint", label: "Zero point", help: "MAG_ZEROPOINT (default 0)"),
        Parameter(name: "columns", label: "Columns", help: "SExtractor names, e.g. NUMBER,X_IMAGE,Y_IMAGE,FLUX_AUTO (default: sep's set)"),
    ]

    static func login(error: String?) -> String {
        HTML.page(title: "Log in", refresh: false, body: """
        <h2>Log in</h2>
        \(error.map { "<p class=\"failed\">\(HTML.escape($0))</p>" } ?? "")
        <form method="post" action="/login">
        <p><label for="token">API token</label> <input id="token" name="token" type="password" size="80" autocomplete="off"></p>
        <p class="muted">An admin issues tokens with <code>sextant users add NAME</code>.</p>
        <p><button id="login" type="submit" style="background:#2d4a7a">Log in</button></p>
        </form>
        """)
    }

    static func jobs(_ jobs: [JobSummary], user: PortalUser, executors: [ExecutorSummary]) -> String {
        let rows = jobs.map { job in [
            "<td><a href=\"/jobs/\(HTML.pathSegment(job.id))\">\(HTML.escape(job.id))</a></td>",
            HTML.cell(Format.date(job.submitted)),
            "<td>\(HTML.status(job.status))</td>",
            HTML.cell("\(job.inputsDone) / \(job.inputsFailed) / \(job.inputsTotal)", numeric: true),
            HTML.cell("\(job.sources)", numeric: true),
            HTML.cell(Format.duration(job.durationSeconds), numeric: true),
            "<td>\(downloads(job.id, finished: job.isFinished))</td>",
        ] }
        let connected = executors.filter(\.connected)
        let body = """
        <p>Signed in as <b>\(HTML.escape(user.name))</b>\(user.isAdmin ? " (admin)" : "") · <a href="/submit">Submit a job</a> · <a href="/logout">Log out</a></p>
        <h2>Jobs</h2>
        \(HTML.table(["Job", "Submitted", "Status", "Inputs done / failed / total", "Sources", "Time", "Downloads"], rows,
                     empty: "No jobs yet."))
        <p>Connected: \(connected.count) executors, \(connected.reduce(0) { $0 + $1.cores }) cores.</p>
        """
        return HTML.page(title: "Jobs", refresh: jobs.contains { !$0.isFinished }, body: body)
    }

    static func downloads(_ id: String, finished: Bool) -> String {
        let base = "/api/v1/jobs/\(HTML.pathSegment(id))"
        return "<a href=\"\(base)/manifest\">manifest</a> · <a href=\"\(base)/log\">log</a>"
            + " · <a href=\"\(base)/catalogs.tar\">catalogs (tar)</a>"
    }

    static func submitForm(error: String?) -> String {
        let fields = parameters.map { parameter in
            "<tr><td><label for=\"\(parameter.name)\">\(HTML.escape(parameter.label))</label></td>"
                + "<td><input id=\"\(parameter.name)\" name=\"\(parameter.name)\" size=\"24\"></td>"
                + "<td class=\"muted\">\(HTML.escape(parameter.help))</td></tr>"
        }.joined(separator: "\n")
        return HTML.page(title: "Submit a job", refresh: false, body: """
        <h2>Submit a job</h2>
        \(error.map { "<p class=\"failed\" id=\"error\">\(HTML.escape($0))</p>" } ?? "")
        <form method="post" action="/submit" enctype="multipart/form-data">
        <table>
        <tr><td><label for="inputs">Inputs</label></td><td><textarea id="inputs" name="inputs" rows="4" cols="60"></textarea></td>
            <td class="muted">one per line: files, directories, globs or s3:// prefixes the master can read</td></tr>
        <tr><td><label for="uploads">Or upload FITS files</label></td><td><input id="uploads" name="uploads" type="file" multiple></td>
            <td class="muted">a few files; stored by the master where executors read them</td></tr>
        <tr><td><label for="output">Output</label></td><td><input id="output" name="output" size="60"></td>
            <td class="muted">directory or s3:// prefix for the catalogs and the manifest</td></tr>
        <tr><td><label for="format">Format</label></td><td><input id="format" name="format" size="12"></td>
            <td class="muted">fits (default), ldac, csv, ecsv, parquet</td></tr>
        <tr><td><label for="jobID">Job id</label></td><td><input id="jobID" name="jobID" size="30"></td>
            <td class="muted">optional; the master picks one</td></tr>
        <tr><td><label for="pool">Pool</label></td><td><input id="pool" name="pool" size="20"></td>
            <td class="muted">the fair-scheduler pool (default)</td></tr>
        \(fields)
        <tr><td><label for="sexConfig">.sex file</label></td><td><input id="sexConfig" name="sexConfig" type="file"></td>
            <td class="muted">SExtractor configuration; the fields above override it</td></tr>
        <tr><td><label for="paramFile">.param file</label></td><td><input id="paramFile" name="paramFile" type="file"></td>
            <td class="muted">the catalog's columns</td></tr>
        </table>
        <p><button id="submit" type="submit" style="background:#2d4a7a">Submit</button></p>
        </form>
        """)
    }

    static func job(_ detail: JobDetail, tasks: [TaskRecord], catalogs: [String]) -> String {
        var page = Pages.job(detail)
        let id = detail.job.id
        var extra = "<h3>Downloads</h3><p>\(downloads(id, finished: detail.job.isFinished))</p>"
        if !catalogs.isEmpty {
            let base = "/api/v1/jobs/\(HTML.pathSegment(id))/catalogs/"
            extra += "<ul class=\"catalogs\">" + catalogs.prefix(500).map { name in
                "<li><a class=\"mono\" href=\"\(base)\(name.split(separator: "/").map { HTML.pathSegment(String($0)) }.joined(separator: "/"))\">\(HTML.escape(name))</a></li>"
            }.joined() + "</ul>"
            if catalogs.count > 500 { extra += "<p class=\"muted\">\(catalogs.count - 500) more in the tar.</p>" }
        }
        extra += "<h3>Task timeline</h3>" + timeline(tasks)
        if let range = page.range(of: "<h3>Failures") { page.insert(contentsOf: extra, at: range.lowerBound) }
        return page
    }

    /// One row per executor, one bar per attempt (green succeeded, red failed, grey other, blue running).
    static func timeline(_ tasks: [TaskRecord], now: Date = Date()) -> String {
        guard let start = tasks.map(\.started).min() else { return "<p class=\"muted\">No task has started yet.</p>" }
        let end = tasks.map { $0.started.addingTimeInterval($0.duration ?? now.timeIntervalSince($0.started)) }.max() ?? now
        let span = max(end.timeIntervalSince(start), 0.001)
        let executors = Array(Set(tasks.map(\.executor))).sorted()
        let width = 900.0, label = 160.0, row = 18.0
        var svg = "<svg class=\"timeline\" width=\"\(Int(width + label))\" height=\"\(Int(Double(executors.count) * row + 24))\" xmlns=\"http://www.w3.org/2000/svg\">"
        for (index, executor) in executors.enumerated() {
            let y = Double(index) * row
            svg += "<text x=\"0\" y=\"\(y + 13)\" font-size=\"11\">\(HTML.escape(String(executor.prefix(24))))</text>"
        }
        for task in tasks.prefix(20_000) {
            let y = Double(executors.firstIndex(of: task.executor) ?? 0) * row
            let x = label + task.started.timeIntervalSince(start) / span * width
            let w = max(1, (task.duration ?? now.timeIntervalSince(task.started)) / span * width)
            let colour = task.outcome == "succeeded" ? "#3a9d5d" : task.outcome == "failed" ? "#d0453a"
                : task.outcome == nil ? "#3a7bd5" : "#9aa3af"
            svg += "<rect x=\"\(String(format: "%.1f", x))\" y=\"\(y + 2)\" width=\"\(String(format: "%.1f", w))\" height=\"\(row - 4)\" fill=\"\(colour)\"><title>partition \(task.partition) attempt \(task.attempt): \(HTML.escape(task.outcome ?? "running"))</title></rect>"
        }
        let axisY = Double(executors.count) * row + 16
        svg += "<text x=\"\(label)\" y=\"\(axisY)\" font-size=\"11\">0 s</text>"
        svg += "<text x=\"\(label + width - 40)\" y=\"\(axisY)\" font-size=\"11\">\(String(format: "%.1f", span)) s</text></svg>"
        return svg
    }
}
