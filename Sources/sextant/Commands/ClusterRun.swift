import ArgumentParser
import Engine
import Pipeline

/// `sextant run --master sextant://...`: submit the job to the master and wait for it.
enum ClusterRun {
    static func submitAndWait(_ spec: JobSpec, master: String, configuration: Configuration) throws {
        throw ValidationError("cluster mode is not wired yet")
    }
}
