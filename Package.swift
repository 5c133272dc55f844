// swift-tools-version:6.0
// pvd: provisioning domains as network namespaces. See README.md and DESIGN.md.
import PackageDescription

/// A system library found through pkg-config, installed from Debian by the scripts.
func systemLibrary(_ name: String, pkgConfig: String, apt: String) -> Target {
    .systemLibrary(name: name, path: "Sources/\(name)", pkgConfig: pkgConfig, providers: [.apt([apt])])
}

let package = Package(
    name: "pvd",
    products: [
        .executable(name: "pvdd", targets: ["pvdd"]),
        .executable(name: "pvd", targets: ["pvd"]),
        .executable(name: "pvd-cli", targets: ["pvd-cli"]),
        .library(name: "PvDWire", targets: ["PvDWire"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // C libraries and the one shim for what Swift cannot import.
        systemLibrary("CNDP", pkgConfig: "libndp", apt: "libndp-dev"),
        systemLibrary("CNetlinkRoute", pkgConfig: "libnl-route-3.0", apt: "libnl-route-3-dev"),
        systemLibrary("CSystemd", pkgConfig: "libsystemd", apt: "libsystemd-dev"),
        systemLibrary("CCap", pkgConfig: "libcap", apt: "libcap-dev"),
        .target(name: "CPvDShim"),

        // Pure Swift: wire formats and the domain model.
        .target(name: "PvDWire"),
        .target(name: "PvDCore", dependencies: ["PvDWire"]),
        // Reads the YAML configuration files into PvDCore values.
        .target(name: "PvDConfig", dependencies: ["PvDCore", "PvDWire", .product(name: "Yams", package: "Yams")]),

        // Thin system layers.
        // What `pvd exec` needs, free of libsystemd, libnl, NSS and Foundation
        // so that `pvd` links statically: entering a domain, /proc, and a
        // D-Bus method call in the wire format.
        .target(name: "PvDExec", dependencies: ["PvDWire", "PvDCore", "CPvDShim", "CCap"]),
        .target(name: "HostNet", dependencies: ["PvDCore", "PvDExec", "CNetlinkRoute", "CPvDShim"]),
        // The user database (NSS), which the static `pvd` must not link.
        .target(name: "UserDatabase"),
        .target(name: "NDP", dependencies: ["PvDWire", "CNDP"]),
        .target(name: "Bus", dependencies: ["PvDCore", "PvDWire", "CSystemd", "CPvDShim"]),

        // Programs.
        .executableTarget(
            name: "pvdd",
            dependencies: [
                "PvDCore", "PvDConfig", "PvDWire", "PvDExec", "UserDatabase", "HostNet", "NDP", "Bus",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // `pvd` runs `pvd exec` and hands every other command to `pvd-cli`.
        .executableTarget(name: "pvd", dependencies: ["PvDExec"], linkerSettings: [.unsafeFlags(["-static-executable"])]),
        .executableTarget(
            name: "pvd-cli",
            dependencies: [
                "PvDWire", "PvDCore", "PvDConfig", "PvDExec", "UserDatabase", "Bus",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], path: "Sources/PvDCLI"),
        // pvdd's helper that fetches PvD additional information inside a domain.
        .executableTarget(name: "pvd-fetch", dependencies: ["PvDExec"], path: "Sources/PvDFetch"),
        .executableTarget(name: "pvd-bench", dependencies: ["PvDWire"], path: "Sources/PvDBench"),
        // Drives HostNet directly for integration tests and its benchmark.
        .executableTarget(
            name: "pvd-hostnet",
            dependencies: [
                "HostNet", "NDP", "PvDCore", "PvDWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], path: "Sources/PvDHostNetTool"),

        .testTarget(name: "PvDWireTests", dependencies: ["PvDWire"], exclude: ["scapy_vectors.py"]),
        .testTarget(name: "PvDCoreTests", dependencies: ["PvDCore"]),
        .testTarget(name: "PvDConfigTests", dependencies: ["PvDConfig"]),
        .testTarget(name: "BusTests", dependencies: ["Bus"]),
        .testTarget(name: "HostNetTests", dependencies: ["HostNet", "PvDCore", "PvDWire"]),
    ],
    swiftLanguageModes: [.v6]
)
