import Foundation

/// The server-rendered pages. Everything from inputs, executors or messages goes through `HTML.escape`.
enum Pages {
    static func jobs(_ jobs: [JobSummary], executors: [ExecutorSummary]) -> String {
        let rows = jobs.map { job in [
            "<td><a href=\"/jobs/\(HTML.pathSegment(job.id))\">\(HTML.escape(job.id))</a></td>",
            HTML.cell(Format.date(job.submitted)),
            "<td>\(HTML.status(job.status))</td>",
            HTML.cell("\(job.inputsDone) / \(job.inputsFailed) / \(job.inputsTotal)", numeric: true),
            HTML.cell("\(job.sources)", numeric: true),
            HTML.cell(Format.duration(job.durationSeconds), numeric: true),
        ] }
        let connected = executors.filter(\.connected)
        let body = """
        <h2>Jobs</h2>
        \(HTML.table(["Job", "Submitted", "Status", "Inputs done / failed / total", "Sources found", "Duration"], rows,
                     empty: "No jobs yet."))
        <p>Connected: \(plural(connected.count, "executor")), \(plural(connected.reduce(0) { $0 + $1.cores }, "core")). <a href="/executors">Details</a></p>
        """
        return HTML.page(title: "Jobs", refresh: jobs.contains { !$0.isFinished }, body: body)
    }

    static func job(_ detail: JobDetail) -> String {
        let job = detail.job
        let total = max(job.inputsTotal, 1)
        let done = Double(job.inputsDone) / Double(total) * 100
        let failed = Double(job.inputsFailed) / Double(total) * 100
        var body = """
        <h2>Job <span class="mono">\(HTML.escape(job.id))</span> \(HTML.status(job.status))</h2>
        <p><span class="bar" title="done / failed"><span style="width:\(String(format: "%.1f", done))%"></span><span class="bad" style="width:\(String(format: "%.1f", failed))%"></span></span>
        \(job.inputsDone) of \(job.inputsTotal) inputs done, \(job.inputsFailed) failed\((job.inputsExcluded ?? 0) > 0 ? ", \(job.inputsExcluded!) excluded by --where" : "")</p>
        <dl>
        <dt>Submitted</dt><dd>\(HTML.escape(Format.date(job.submitted)))</dd>
        <dt>Started</dt><dd>\(HTML.escape(Format.date(job.started)))</dd>
        \(job.finished.map { "<dt>Finished</dt><dd>\(HTML.escape(Format.date($0)))</dd>" } ?? "")
        <dt>Duration</dt><dd>\(HTML.escape(Format.duration(job.durationSeconds)))</dd>
        <dt>Sources found</dt><dd>\(job.sources)</dd>
        <dt>Catalog bytes</dt><dd>\(HTML.escape(Format.bytes(job.bytesWritten)))</dd>
        <dt>Frames</dt><dd><a href="/jobs/\(HTML.pathSegment(job.id))/frames">frame table and plots</a> (<a href="/api/v1/jobs/\(HTML.pathSegment(job.id))/frames">JSON</a>)</dd>
        <dt>Tasks</dt><dd>\(detail.tasksRunning) running, \(detail.tasksEnded) ended (<a href="/api/v1/jobs/\(HTML.pathSegment(job.id))/tasks">\(detail.tasksKept < detail.tasksRunning + detail.tasksEnded ? "the running and latest \(detail.tasksKept - detail.tasksRunning) ended" : "all") attempts, JSON</a>)</dd>
        \(job.output.map { "<dt>Catalogs</dt><dd>\(link($0))</dd>" } ?? "")
        \(job.manifest.map { "<dt>Manifest</dt><dd>\(link($0))</dd>" } ?? "")
        \(job.message.isEmpty ? "" : "<dt>Message</dt><dd>\(HTML.escape(job.message))</dd>")
        </dl>
        """
        if !job.isFinished {
            body += """
            <form method="post" action="/jobs/\(HTML.pathSegment(job.id))/cancel">
            <button type="submit">Cancel job</button></form>
            """
        }
        body += "<h3>Failures (\(job.inputsFailed)\(job.inputsFailed > min(200, detail.failures.count) ? ", the first \(min(200, detail.failures.count)) shown" : ""))</h3>"
        body += HTML.table(["Input", "Attempts", "Executor", "Message"], detail.failures.prefix(200).map { [
            "<td class=\"mono\">\(HTML.escape($0.input))</td>", HTML.cell("\($0.attempts)", numeric: true),
            HTML.word($0.executor ?? ""), HTML.cell($0.error ?? ""),
        ] }, empty: "None.")
        body += "<h3>Slowest tasks</h3>"
        body += HTML.table(["Partition", "Attempt", "Executor", "Duration", "Outcome", "Inputs"], detail.slowestTasks.map { [
            HTML.cell("\($0.partition)", numeric: true), HTML.cell("\($0.attempt)", numeric: true),
            HTML.word($0.executor), HTML.cell(Format.duration($0.duration), numeric: true),
            HTML.cell(($0.outcome ?? "running") + ($0.speculative ? " (speculative)" : "")),
            "<td class=\"mono\">\($0.inputs.map(HTML.escape).joined(separator: "<br>"))</td>",
        ] }, empty: "No task has ended yet.")
        body += "<h3>Executors</h3>"
        body += HTML.table(["Executor", "Running", "Succeeded", "Failed", "Task seconds", "Inputs", "Sources"],
                           detail.executors.map { [
            HTML.word($0.executor), HTML.cell("\($0.tasksRunning)", numeric: true),
            HTML.cell("\($0.tasksSucceeded)", numeric: true), HTML.cell("\($0.tasksFailed)", numeric: true),
            HTML.cell(String(format: "%.1f", $0.taskSeconds), numeric: true),
            HTML.cell("\($0.inputs)", numeric: true), HTML.cell("\($0.sources)", numeric: true),
        ] }, empty: "No task has run yet.")
        return HTML.page(title: "Job \(job.id)", refresh: !job.isFinished, body: body)
    }

    static func executors(_ executors: [ExecutorSummary]) -> String {
        let showHeartbeat = executors.contains { $0.heartbeatAgeSeconds != nil }
        let showMemory = executors.contains { $0.memoryBytes != nil }
        var headers = ["Executor", "Host", "Cores", "State", "Tasks running", "Tasks done", "Tasks failed"]
        if showHeartbeat { headers.append("Heartbeat age") }
        if showMemory { headers.append("Memory") }
        let rows = executors.map { executor -> [String] in
            var row = [HTML.word(executor.id), HTML.word(executor.host), HTML.cell("\(executor.cores)", numeric: true),
                       HTML.cell(executor.connected ? "connected" : "lost"),
                       HTML.cell("\(executor.tasksRunning)", numeric: true),
                       HTML.cell("\(executor.tasksSucceeded)", numeric: true),
                       HTML.cell("\(executor.tasksFailed)", numeric: true)]
            if showHeartbeat { row.append(HTML.cell(executor.heartbeatAgeSeconds.map { String(format: "%.1f s", $0) } ?? "", numeric: true)) }
            if showMemory { row.append(HTML.cell(executor.memoryBytes.map(Format.bytes) ?? "", numeric: true)) }
            return row
        }
        return HTML.page(title: "Executors", refresh: false,
                         body: "<h2>Executors</h2>" + HTML.table(headers, rows, empty: "No executor has connected."))
    }

    private static func plural(_ count: Int, _ noun: String) -> String {
        "\(count) \(noun)\(count == 1 ? "" : "s")"
    }

    static func message(_ title: String, _ text: String) -> String {
        HTML.page(title: title, refresh: false, body: "<h2>\(HTML.escape(title))</h2><p>\(HTML.escape(text))</p>")
    }

    /// A link for local paths and http(s) URLs; s3:// and others stay text.
    private static func link(_ location: String) -> String {
        let escaped = HTML.escape(location)
        if location.hasPrefix("/") {
            let url = URL(fileURLWithPath: location).absoluteString
            return "<a class=\"mono\" href=\"\(HTML.escape(url))\">\(escaped)</a>"
        }
        if location.hasPrefix("http://") || location.hasPrefix("https://") {
            return "<a class=\"mono\" href=\"\(escaped)\">\(escaped)</a>"
        }
        return "<code>\(escaped)</code>"
    }
}
