import Engine
import Foundation
import Logging
import NIOCore
import NIOPosix

/// Talks to a master as a client: submit a job, wait for it (with progress), ask its status, cancel it.
/// One request at a time per client; the calls block their thread.
/// @unchecked: immutable; `lock` serializes the requests on `connection`.
public final class ClusterClient: @unchecked Sendable {
    private let connection: PeerConnection
    private let network: NetworkSettings
    private let lock = NSLock()

    /// Connects and authenticates. Throws `ClusterError.refused` with the master's reason
    /// on a version, build or secret mismatch.
    public init(master: MasterAddress, buildID: String, network: NetworkSettings = NetworkSettings(),
                logger: Logger = Logger(label: "sextant.client"),
                group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws {
        self.network = network
        connection = try PeerConnection.open(to: master, role: .client, buildID: buildID, network: network,
                                             group: group, logger: logger)
    }

    /// Queues `payload` as a job; returns its record (its id is master-assigned unless `jobID` is given).
    /// A payload larger than one frame travels in pieces of at most `partBytes`, so any job up to
    /// the master's `sextant.master.maxJobBytes` fits through any `sextant.network.maxFrameBytes`.
    public func submit(_ payload: Data, jobID: String? = nil, settings: [String: String] = [:]) throws -> JobRecord {
        lock.lock(); defer { lock.unlock() }
        let size = partBytes
        var parts = 0
        var offset = payload.startIndex
        while payload.endIndex - offset > size {
            try sendWithin(.submitPart(SubmitPart(data: payload[offset..<offset + size])),
                           what: "part \(parts + 1) of the job")
            offset += size
            parts += 1
        }
        let last = Data(payload[offset...])
        return try exchange(.submit(SubmitRequest(jobID: jobID, payload: last, settings: settings,
                                                  parts: parts > 0 ? parts : nil))) {
            if case .submitted(let record) = $0 { return record }
            return nil
        }
    }

    /// The bytes of job per piece: a frame carries them base64-encoded (4/3) with a small header.
    var partBytes: Int { max(1024, min(4 << 20, (network.maxFrameBytes - 1024) / 4 * 3)) }

    /// Blocks until the job ends, passing on each progress message; returns the final record.
    /// A job may run for days, but the master must stay alive: after `sextant.network.requestTimeout`
    /// without a message the client asks the job's status, and a master that does not answer that
    /// either within the same time is an error (`ClusterError.timedOut`), never a wait forever.
    /// - Parameter timeout: seconds to wait at most; nil waits as long as the job runs.
    public func wait(for jobID: String, timeout: TimeInterval? = nil,
                     progress: (Data) -> Void = { _ in }) throws -> JobRecord {
        lock.lock(); defer { lock.unlock() }
        try sendWithin(.waitJob(JobReference(jobID: jobID)), what: "the wait request")
        let deadline = timeout.map { Date(timeIntervalSinceNow: $0) }
        var probing = false  // a status request is out, unanswered
        while true {
            var wake = Date(timeIntervalSinceNow: network.requestTimeout)
            if let deadline { wake = min(wake, deadline) }
            guard let message = try connection.receive(timeout: max(0, wake.timeIntervalSinceNow)) else {
                if let deadline, Date() >= deadline { throw ClusterError.timedOut("waiting for job \(jobID)") }
                if probing {
                    throw ClusterError.timedOut("the master stopped answering while job \(jobID) ran: no message and no "
                        + "answer to a status request within \(Self.seconds(network.requestTimeout)) (sextant.network.requestTimeout)")
                }
                try sendWithin(.status(StatusRequest(jobID: jobID)), what: "a status request")
                probing = true
                continue
            }
            probing = false  // any message shows the master alive
            switch message {
            case .jobProgress(let update) where update.jobID == jobID: progress(update.data)
            case .jobFinished(let record) where record.id == jobID: return record
            case .requestFailed(let failure): throw ClusterError.requestFailed(failure.reason)
            default: continue
            }
        }
    }

    /// One job's record, or every job's when `jobID` is nil.
    public func status(of jobID: String? = nil) throws -> [JobRecord] {
        try request(.status(StatusRequest(jobID: jobID))) {
            if case .statusReply(let records) = $0 { return records }
            return nil
        }
    }

    /// Cancels a queued job at once, or asks a running one to stop; returns its record as of now.
    public func cancel(_ jobID: String) throws -> JobRecord {
        try request(.cancelJob(JobReference(jobID: jobID))) {
            if case .cancelReply(let record) = $0 { return record }
            return nil
        }
    }

    public func close() {
        connection.close()
    }

    private func request<T>(_ message: Message, reply: (Message) -> T?) throws -> T {
        lock.lock(); defer { lock.unlock() }
        return try exchange(message, reply: reply)
    }

    /// Sends `message` and waits for its answer, both within `sextant.network.requestTimeout`. Holds `lock`.
    private func exchange<T>(_ message: Message, reply: (Message) -> T?) throws -> T {
        let deadline = Date(timeIntervalSinceNow: network.requestTimeout)
        try sendWithin(message, what: "the \(message.type) request", deadline: deadline)
        while true {
            guard let answer = try connection.receive(timeout: max(0, deadline.timeIntervalSinceNow)) else {
                throw ClusterError.timedOut("the master did not answer the \(message.type) request within "
                    + "\(Self.seconds(network.requestTimeout)) (sextant.network.requestTimeout)")
            }
            if case .requestFailed(let failure) = answer { throw ClusterError.requestFailed(failure.reason) }
            if let value = reply(answer) { return value }
        }
    }

    /// Sends `message` and waits until it is written: a write that fails (too large, connection
    /// gone) or that the master does not take in time is an error, never a hang.
    private func sendWithin(_ message: Message, what: String, deadline: Date? = nil) throws {
        let deadline = deadline ?? Date(timeIntervalSinceNow: network.requestTimeout)
        let done = NSCondition()
        let written = Locked<Result<Void, Error>?>(nil)
        connection.send(message).whenComplete { result in
            done.lock(); written.value = result; done.signal(); done.unlock()
        }
        done.lock(); defer { done.unlock() }
        while written.value == nil {
            guard done.wait(until: deadline) || written.value != nil else {
                throw ClusterError.timedOut("the master did not take \(what) within "
                    + "\(Self.seconds(network.requestTimeout)) (sextant.network.requestTimeout)")
            }
        }
        if case .failure(let error) = written.value! {
            throw ClusterError.requestFailed("could not send \(what) to the master: \(error)")
        }
    }

    private static func seconds(_ value: TimeInterval) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}
