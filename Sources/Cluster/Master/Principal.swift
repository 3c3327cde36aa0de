import Foundation

/// Who is on the other end of a client connection or web request, as authenticated: a user
/// with a token (`sextant users add`), or an admin (the cluster secret or the shared client
/// credential, and everyone on a loopback master without a secret). A user sees and cancels
/// only their own jobs; an admin every job.
public struct Principal: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var isAdmin: Bool

    public init(name: String, isAdmin: Bool) {
        self.name = name
        self.isAdmin = isAdmin
    }

    /// A loopback master without a secret: one machine, one operator.
    public static let local = Principal(name: "local", isAdmin: true)
    /// Holders of the cluster secret or the shared client credential.
    public static let operatorCredential = Principal(name: "admin", isAdmin: true)

    public var description: String { isAdmin ? "\(name) (admin)" : name }

    /// Whether this principal may see and cancel `record`.
    public func owns(_ record: JobRecord) -> Bool {
        isAdmin || record.user == name
    }
}
