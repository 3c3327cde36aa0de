import Foundation

extension ExecutorRegistration {
    /// More cores than any machine has would make the scheduler send one executor every task.
    static let maxCores = 1024
    static let maxHostBytes = 253
    static let maxLocalPaths = 64

    /// What an executor may claim, whatever it sent: cores capped, a printable host name of
    /// DNS length, bounded lists of local paths and attributes. Identity comes from the connection, not the body.
    func sanitized() -> ExecutorRegistration {
        func printable(_ text: String, limit: Int) -> String {
            String(String.UnicodeScalarView(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7f })
                .prefix(limit))
        }
        var sane = self
        let host = printable(host, limit: Self.maxHostBytes)
        sane.host = host.isEmpty ? "unnamed" : host
        sane.cores = min(cores, Self.maxCores)
        sane.localPaths = localPaths.prefix(Self.maxLocalPaths).map { printable($0, limit: 4096) }
        sane.attributes = attributes.map { declared in
            Dictionary(declared.sorted { $0.key < $1.key }.prefix(64).map { (String($0.key.prefix(256)), String($0.value.prefix(16_384))) },
                       uniquingKeysWith: { first, _ in first })
        }
        return sane
    }
}
