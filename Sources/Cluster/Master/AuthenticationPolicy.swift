import Foundation

extension MasterServer {
    /// Secure by default: without a secret the master listens on loopback only, and it needs the
    /// cluster secret itself (a role's credential cannot verify the other roles).
    static func checkAuthentication(_ settings: MasterSettings) throws {
        guard let secret = settings.network.secret else {
            guard Loopback.contains(host: settings.host) else {
                throw ClusterError.unauthenticated(
                    "refusing to listen on \(settings.host):\(settings.port) without authentication: anyone who reaches "
                    + "the port could run jobs with this cluster's file and S3 access. Give the cluster a secret "
                    + "(sextant.authenticate.secretFile=FILE, mode 600, or \(ClusterSecret.environmentVariable)), "
                    + "or listen on loopback only (--host 127.0.0.1). Make a secret with "
                    + "`(umask 077; od -An -tx1 -N32 /dev/urandom | tr -d ' \\n' > secret)`")
            }
            return
        }
        if let scope = secret.scope {
            throw ClusterError.unauthenticated("the master needs the cluster secret; it was given a "
                + "\(scope.rawValue) credential (sextant.authenticate.secretFile)")
        }
    }
}
