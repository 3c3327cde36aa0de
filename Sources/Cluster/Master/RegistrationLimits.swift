import Foundation

extension ExecutorRegistration {
    /// More cores than any machine has would make the scheduler send one executor every task.
    static let maxCores = 1024
    static let maxHostBytes = 253
    static let maxLocalPaths = 64
    static let maxAttributes = 64
    /// Queued tasks per core at most: enough to hide a round trip, not a hoard of the job's tasks.
    static let maxQueuedPerCore = 16

    /// What an executor may claim, whatever it sent: cores capped, a printable host name of
    /// DNS length, bounded lists of local paths and attributes. Identity comes from the connection, not the body.
    func sanitized() -> ExecutorRegistration {
        func printable(_ text: String, limit: Int) -> String {
            String(String.UnicodeScalarView(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7f })
                .prefix(limit))
        }
        let host = printable(host, limit: Self.maxHostBytes)
        return ExecutorRegistration(host: host.isEmpty ? "unnamed" : host,
                                    cores: min(cores, Self.maxCores),
                                    queuedTasks: queuedTasks.map { min(max(0, $0), min(cores, Self.maxCores) * Self.maxQueuedPerCore) },
                                    localPaths: localPaths.prefix(Self.maxLocalPaths).map { printable($0, limit: 4096) },
                                    attributes: attributes.map { attributes in
                                        Dictionary(attributes.sorted { $0.key < $1.key }.prefix(Self.maxAttributes).map {
                                            (printable($0.key, limit: 256), printable($0.value, limit: 4096))
                                        }, uniquingKeysWith: { first, _ in first })
                                    })
    }
}
