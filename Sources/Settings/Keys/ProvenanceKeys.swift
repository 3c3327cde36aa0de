import Foundation

/// What a job records about where its catalogs came from (read by Pipeline's provenance).
public enum ProvenanceKeys {
    public static let inputChecksum = Declare.bool(
        "sextant.provenance.inputChecksum", .extraction, .job, default: true,
        doc: "hash every input's bytes (SHA-256) into its manifest line and catalog header (INSHA256), so `sextant verify` can tell a changed input; off, only size and mtime or ETag are recorded")

    public static let all = declarations(inputChecksum)
}
