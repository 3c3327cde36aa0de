import Foundation

/// What goes wrong between cluster peers, each with a message a user can act on.
public enum ClusterError: Error, CustomStringConvertible, Equatable {
    case invalidAddress(String, reason: String)
    case secretUnreadable(String, reason: String)
    /// `sextant.authenticate.secret` was set: a secret on a command line shows in `ps`.
    case secretOnCommandLine
    case secretTooShort(String)
    /// Secure by default: a listener beyond loopback, or a master beyond it, without authentication.
    case unauthenticated(String)
    /// The peer refused the handshake (version, build id or authentication); fatal, do not retry.
    case refused(String)
    /// The peer broke the protocol or could not prove it knows the secret.
    case protocolViolation(String)
    case connectionClosed(String)
    case timedOut(String)
    /// The master answered a request with an error (unknown job, duplicate id, ...).
    case requestFailed(String)

    public var description: String {
        switch self {
        case .invalidAddress(let text, let reason): return "invalid master address '\(text)': \(reason)"
        case .secretUnreadable(let file, let reason): return "cannot read the secret file \(file): \(reason)"
        case .secretOnCommandLine:
            return "sextant.authenticate.secret is not read (a secret on a command line shows in ps): "
                + "put it in a file named by sextant.authenticate.secretFile (mode 600) or in SEXTANT_AUTH_SECRET"
        case .secretTooShort(let source):
            return "\(source) is shorter than \(ClusterSecret.minimumBytes) bytes; make one with "
                + "`od -An -tx1 -N32 /dev/urandom | tr -d ' \\n' > secret`"
        case .unauthenticated(let reason): return reason
        case .refused(let reason): return "refused: \(reason)"
        case .protocolViolation(let reason): return "protocol error: \(reason)"
        case .connectionClosed(let reason): return "connection closed: \(reason)"
        case .timedOut(let what): return "timed out: \(what)"
        case .requestFailed(let reason): return reason
        }
    }

    /// Refusals are configuration errors: retrying cannot help.
    public var isFatal: Bool {
        if case .refused = self { return true }
        return false
    }
}
