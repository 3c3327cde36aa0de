import Foundation

/// The large-image slots of `LargeImageGate`, shared by the worker processes of one local run:
/// lock files in a directory the driver makes and names in SEXTANT_LARGE_IMAGE_LOCKS. The kernel
/// drops a flock when its process dies, so a worker that crashes holding a slot frees it.
public enum LargeImageLocks {
    public static let environmentVariable = "SEXTANT_LARGE_IMAGE_LOCKS"
    private static let directory = ProcessInfo.processInfo.environment[environmentVariable]

    /// Runs `body` holding one of `slots` process-shared slots (at once outside a local run's workers).
    static func withSlot<T>(slots: Int, _ body: () throws -> T) rethrows -> T {
        guard let directory, slots > 0 else { return try body() }
        let descriptors = (0..<slots).map { open("\(directory)/slot-\($0)", O_RDWR | O_CREAT | O_CLOEXEC, 0o600) }
            .filter { $0 >= 0 }
        defer { for descriptor in descriptors { close(descriptor) } }
        guard !descriptors.isEmpty else { return try body() }
        var held: Int32?
        while held == nil {
            held = descriptors.first { flock($0, LOCK_EX | LOCK_NB) == 0 }
            // Large images take seconds each: polling costs nothing that matters.
            if held == nil { usleep(20_000) }
        }
        defer { if let held { flock(held, LOCK_UN) } }
        return try body()
    }
}
