import Engine
import Foundation

/// Who is dialling the master.
public enum PeerRole: String, Codable, Sendable {
    case executor
    case client
}

/// The master's opening: who it is and a fresh challenge.
struct ServerHello: Codable, Sendable {
    var protocolVersion: UInt16
    var buildID: String
    var nonce: Data
    var authenticationRequired: Bool
}

/// The dialler's answer: who it is, its own nonce, and (with a secret) its proof.
struct ClientHello: Codable, Sendable {
    var protocolVersion: UInt16
    var buildID: String
    var role: PeerRole
    var nonce: Data
    var proof: Data?
    /// A user's principal (`user:NAME:GENERATION`) when the proof is under that user's token; nil
    /// for the roles' shared credentials and the cluster secret.
    var principal: String? = nil
}

/// The master accepts, proving in turn that it knows the secret.
struct Welcome: Codable, Sendable {
    var proof: Data?
}

/// Why a peer was turned away or a request failed.
struct Refusal: Codable, Sendable {
    var reason: String
}

struct ExecutorRegistration: Codable, Sendable {
    var host: String
    var cores: Int
    /// Tasks it queues beyond `cores` (`sextant.executor.queuedTasksPerSlot` x cores); nil: none (older executors).
    var queuedTasks: Int? = nil
    var localPaths: [String]
    /// The executor's declared attributes (`ExecutorInfo.attributes`).
    var attributes: [String: String]?
}

struct RegistrationAck: Codable, Sendable {
    var executorID: ExecutorID
    /// The master's sextant.executor.heartbeatInterval: the executor beats at least this often,
    /// so the master's timeout holds whatever the executor's own configuration says.
    var heartbeatInterval: Double?
}

struct SubmitRequest: Codable, Sendable {
    var jobID: String?
    var payload: Data
    var settings: [String: String]
    /// Set when the payload travelled in pieces: the `submitPart`s sent before this request,
    /// whose bytes come before `payload`'s. Nil: `payload` is the whole job.
    var parts: Int?
}

/// One piece of a job too large for one frame; the `submit` that follows completes it.
struct SubmitPart: Codable, Sendable {
    var data: Data
}

struct JobReference: Codable, Sendable {
    var jobID: String
}

struct StatusRequest: Codable, Sendable {
    var jobID: String?
}

struct JobProgress: Codable, Sendable {
    var jobID: String
    var data: Data
}

struct Empty: Codable, Sendable {}

/// Every message on the wire. The raw value of `MessageType` is the header's type byte.
enum Message: Sendable {
    // Handshake
    case serverHello(ServerHello)
    case clientHello(ClientHello)
    case welcome(Welcome)
    case refused(Refusal)
    // Executor <-> master
    case register(ExecutorRegistration)
    case registered(RegistrationAck)
    case heartbeat
    case heartbeatAck
    /// One task, JSON; read still, but protocol 3 peers send `launchTasks` (binary) even for one.
    case launchTask(TaskSpec)
    case cancelTask(TaskAttemptID)
    /// One result, JSON; read still, but protocol 3 peers send `taskResults` even for one.
    case taskResult(TaskResult)
    /// Every task the master has slots for on that executor, in one frame (protocol 3).
    case launchTasks([TaskSpec])
    /// Results an executor had ready when it wrote, in one frame (protocol 3).
    case taskResults([TaskResult])
    /// The executor is leaving: the master launches nothing more on it.
    case draining
    /// Queued tasks a draining executor never started, handed back to be run elsewhere (not failures).
    case returnedTasks([TaskAttemptID])
    // Client <-> master
    case submit(SubmitRequest)
    case submitPart(SubmitPart)
    case submitted(JobRecord)
    case waitJob(JobReference)
    case jobProgress(JobProgress)
    case jobFinished(JobRecord)
    case status(StatusRequest)
    case statusReply([JobRecord])
    case cancelJob(JobReference)
    case cancelReply(JobRecord)
    case requestFailed(Refusal)
}

/// The header's type byte. Never renumber: old peers must still read the handshake.
enum MessageType: UInt8 {
    case serverHello = 1, clientHello, welcome, refused
    case register = 10, registered, heartbeat, heartbeatAck, launchTask, cancelTask, taskResult
    case submit = 20, submitted, waitJob, jobProgress, jobFinished, status, statusReply
    case cancelJob, cancelReply, requestFailed
    case submitPart = 36
    case draining = 37
    case launchTasks = 38, taskResults
    case returnedTasks = 40
}
