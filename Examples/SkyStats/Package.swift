// swift-tools-version:5.10
// A program on the Sextant Engine: its own operator (per-frame sky statistics), its own
// driver-and-executor binary, run on local[N] or on a cluster of its own executors.
import PackageDescription

let package = Package(
    name: "SkyStats",
    platforms: [.macOS(.v13)],
    dependencies: [
        // Named, so the products are found whatever the checkout directory is called.
        .package(name: "Sextant", path: "../.."),
    ],
    targets: [
        .executableTarget(name: "SkyStats", dependencies: [
            .product(name: "Engine", package: "Sextant"),
            .product(name: "SextantCluster", package: "Sextant"),
        ]),
    ]
)
