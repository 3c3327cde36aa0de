// swift-tools-version:5.10
import PackageDescription

// Complete concurrency checking for every Swift target: the compiler checks what crosses threads
// (scripts/test fails on a concurrency warning in Sources).
let checked: [SwiftSetting] = [.enableUpcomingFeature("StrictConcurrency")]

let package = Package(
    name: "Sextant",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "sextant", targets: ["sextant"]),
        .library(name: "Engine", targets: ["Engine"]),
        .library(name: "SextantPipeline", targets: ["Pipeline"]),
        // The cluster (master, executor daemon, client) for programs on the Engine: Examples/SkyStats.
        .library(name: "SextantCluster", targets: ["Cluster"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // System libraries: the only places C headers enter.
        .systemLibrary(name: "CFITSIO", path: "Sources/CFITSIO"),
        .systemLibrary(name: "CBZip2", path: "Sources/CBZip2"),
        .systemLibrary(name: "CSEP", path: "Sources/CSEP"),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "openssl"),
        .systemLibrary(name: "CWCSLIB", path: "Sources/CWCSLIB", pkgConfig: "wcslib"),
        .systemLibrary(name: "CHEALPix", path: "Sources/CHEALPix", pkgConfig: "chealpix"),

        .target(name: "FITS", dependencies: ["CFITSIO", "CBZip2"], swiftSettings: checked),
        .target(name: "Extraction", dependencies: ["CSEP", "Engine"], swiftSettings: checked),
        // World coordinates through wcslib: the only importer of CWCSLIB.
        .target(name: "WCS", dependencies: ["CWCSLIB"], swiftSettings: checked),
        .target(name: "Hashing", dependencies: ["COpenSSL"], swiftSettings: checked),
        // HEALPix pixels (nested scheme) over Debian's libchealpix; the per-tile merge of detections.
        .target(name: "HEALPix", dependencies: ["CHEALPix"], swiftSettings: checked),
        .target(name: "SkyMerge", dependencies: ["HEALPix", "Engine"], swiftSettings: checked),
        // Every configuration key, declared once, and the one parser of their values.
        .target(name: "Settings", swiftSettings: checked),
        .target(name: "Storage", dependencies: [
            "Hashing", "Settings",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: checked),
        .target(name: "Engine", dependencies: [
            "Settings",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: checked),
        .target(name: "Cluster", dependencies: [
            "Engine", "Hashing",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOExtras", package: "swift-nio-extras"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: checked),
        .target(name: "Pipeline", dependencies: [
            "Engine", "Storage", "Extraction", "FITS", "WCS", "SkyMerge", "HEALPix",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: checked),
        // The web UI, REST API, metrics and event log; fed by engine events and small host protocols.
        .target(name: "Monitor", dependencies: [
            "Engine",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ], swiftSettings: checked),
        // Shared by the test targets only: data locations, scratch dirs, subprocesses.
        .target(name: "TestSupport", dependencies: ["Settings"], path: "Sources/TestSupport", swiftSettings: checked),

        .executableTarget(name: "sextant", dependencies: [
            "Pipeline", "Cluster", "Engine", "Storage", "FITS", "Extraction", "Monitor",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: checked),

        // Examples/SkyStats's own sources, built with the suite so its test runs them in local and
        // cluster mode without building the example package apart (which compiles SwiftNIO again).
        .executableTarget(name: "SkyStatsExample", dependencies: ["Engine", "Cluster"],
                          path: "Examples/SkyStats/Sources/SkyStats", swiftSettings: checked),

        .testTarget(name: "FITSTests", dependencies: ["TestSupport", "FITS"]),
        .testTarget(name: "WCSTests", dependencies: ["TestSupport", "WCS", "FITS"]),
        .testTarget(name: "ExtractionTests", dependencies: ["TestSupport", "Extraction", "FITS"]),
        .testTarget(name: "StorageTests", dependencies: ["TestSupport", "Storage", "Hashing"]),
        .testTarget(name: "SettingsTests", dependencies: ["Settings"]),
        .testTarget(name: "EngineTests", dependencies: ["TestSupport", "Engine"]),
        .testTarget(name: "SkyMergeTests", dependencies: ["HEALPix", "SkyMerge", "Engine"]),
        .testTarget(name: "ClusterTests", dependencies: ["TestSupport", "Cluster", "Engine"]),
        .testTarget(name: "PipelineTests", dependencies: ["TestSupport", "Pipeline", "Engine", "FITS", "Extraction", "Storage", "WCS"]),
        .testTarget(name: "MonitorTests", dependencies: ["TestSupport", "Monitor", "Engine"]),
        .testTarget(name: "EndToEndTests", dependencies: ["TestSupport", "Storage"]),
    ]
)
