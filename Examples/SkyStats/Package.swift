// swift-tools-version:5.10
// A tiny program on the Sextant Engine: per-frame sky statistics, run on local[N].
import PackageDescription

let package = Package(
    name: "SkyStats",
    platforms: [.macOS(.v13)],
    dependencies: [
        // Named, so the product is found whatever the checkout directory is called.
        .package(name: "Sextant", path: "../.."),
    ],
    targets: [
        .executableTarget(name: "SkyStats", dependencies: [.product(name: "Engine", package: "Sextant")]),
    ]
)
