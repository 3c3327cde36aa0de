import Foundation
import Logging
import NIOCore
import NIOPosix

/// Talks to a master as a client: submit a job, wait for it (with progress), ask its status, cancel it.
/// One request at a time per client; the calls block their thread.
public final class ClusterClient: @unchecked Sendable {
    private let connection: PeerConnection
    private let lock = NSLock()

    /// Connects and authenticates. Throws `ClusterError.refused` with the master's reason
    /// on a version, build or secret mismatch.
    public init(master: MasterAddress, buildID: String, network: NetworkSettings = NetworkSettings(),
                logger: Logger = Logger(label: "sextant.client"),
                group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws {
        connection = try PeerConnection.open(to: master, role: .client, buildID: buildID, network: network,
                                             group: group, logger: logger)
    }

    /// Queues `payload` as a job; returns its record (its id is master-assigned unless `jobID` is given).
    public func submit(_ payload: Data, jobID: String? = nil, settings: [String: String] = [:]) throws -> JobRecord {
        try request(.submit(SubmitRequest(jobID: jobID, payload: payload, settings: settings))) {
            if case .submitted(let record) = $0 { return record }
            return nil
        }
    }

    /// Blocks until the job ends, passing on each progress message; returns the final record.
    /// - Parameter timeout: seconds to wait at most; nil waits as long as the job runs.
    public func wait(for jobID: String, timeout: TimeInterval? = nil,
                     progress: (Data) -> Void = { _ in }) throws -> JobRecord {
        lock.lock(); defer { lock.unlock() }
        connection.send(.waitJob(JobReference(jobID: jobID)))
        let deadline = timeout.map { Date(timeIntervalSinceNow: $0) }
        while true {
            let remaining = deadline.map { max(0, $0.timeIntervalSinceNow) }
            guard let message = try connection.receive(timeout: remaining) else {
                throw ClusterError.timedOut("waiting for job \(jobID)")
            }
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
        connection.send(message)
        while true {
            guard let answer = try connection.receive(timeout: nil) else { continue }
            if case .requestFailed(let failure) = answer { throw ClusterError.requestFailed(failure.reason) }
            if let value = reply(answer) { return value }
        }
    }
}
