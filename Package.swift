// swift-tools-version:6.0
// pvd: provisioning domains as network namespaces. See README.md and docs/architecture.md.
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
        .target(name: "BusWire"),
        .target(name: "PvDCore", dependencies: ["PvDWire"]),
        // `pvd lab` and `pvd announce`: a lab's topology and plan, what a router announces.
        .target(name: "PvDLab", dependencies: ["PvDCore", "PvDWire"]),
        // Reads the YAML configuration files into PvDCore values.
        .target(name: "PvDConfig", dependencies: ["PvDCore", "PvDWire", .product(name: "Yams", package: "Yams")]),

        // Thin system layers.
        // Syscalls, /proc, files, namespaces and child processes, with no
        // library beyond libc, so that the static `pvd` can link it.
        .target(name: "LinuxSystem", dependencies: ["PvDCore", "CPvDShim"]),
        // The user database (NSS), which the static `pvd` must not link.
        .target(name: "UserDatabase"),
        .target(name: "HostNet", dependencies: ["PvDCore", "PvDWire", "LinuxSystem", "CNetlinkRoute"]),
        .target(name: "NDP", dependencies: ["PvDCore", "PvDWire", "LinuxSystem", "CNDP"]),
        .target(name: "Systemd", dependencies: ["BusWire", "PvDCore", "LinuxSystem", "CSystemd", "CPvDShim"]),
        // What `pvd exec` needs, free of libsystemd, libnl, NSS and Foundation
        // so that `pvd` links statically: entering a domain and the OpenDomain
        // call in the D-Bus wire format.
        .target(name: "PvDExec", dependencies: ["BusWire", "PvDCore", "LinuxSystem", "CPvDShim", "CCap"]),

        // Programs.
        .executableTarget(
            name: "pvdd",
            dependencies: [
                "PvDCore", "PvDConfig", "PvDWire", "BusWire", "LinuxSystem", "UserDatabase", "HostNet", "NDP", "Systemd",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // `pvd` runs `pvd exec` and hands every other command to `pvd-cli`.
        .executableTarget(name: "pvd", dependencies: ["PvDExec", "LinuxSystem"], linkerSettings: [.unsafeFlags(["-static-executable"])]),
        .executableTarget(
            name: "pvd-cli",
            dependencies: [
                "PvDWire", "BusWire", "PvDCore", "PvDConfig", "PvDExec", "PvDLab", "LinuxSystem", "UserDatabase", "Systemd", "NDP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], path: "Sources/PvDCLI"),
        // pvdd's helper that fetches PvD additional information inside a domain.
        .executableTarget(name: "pvd-fetch", dependencies: ["PvDExec", "LinuxSystem"], path: "Sources/PvDFetch"),
        .executableTarget(name: "pvd-bench", dependencies: ["PvDWire"], path: "Sources/PvDBench"),
        // Drives HostNet directly for integration tests and its benchmark.
        .executableTarget(
            name: "pvd-hostnet",
            dependencies: [
                "HostNet", "NDP", "PvDCore", "PvDWire", "LinuxSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], path: "Sources/PvDHostNetTool"),

        // Test doubles and the fuzz corpora, shared by the unit tests; no program links them.
        .target(name: "TestSupport", dependencies: ["PvDCore"], path: "Tests/Support"),
        .testTarget(name: "PvDWireTests", dependencies: ["PvDWire"], exclude: ["scapy_vectors.py"]),
        .testTarget(name: "PvDCoreTests", dependencies: ["PvDCore", "PvDWire", "TestSupport"]),
        .testTarget(name: "PvDLabTests", dependencies: ["PvDLab", "PvDCore", "PvDWire"]),
        .testTarget(name: "PvDConfigTests", dependencies: ["PvDConfig", "PvDCore", "PvDWire", "BusWire", "TestSupport"]),
        .testTarget(name: "BusWireTests", dependencies: ["BusWire"]),
        .testTarget(name: "HostNetTests", dependencies: ["HostNet", "PvDCore", "PvDWire", "LinuxSystem", "CNetlinkRoute"]),
        .testTarget(name: "PvDExecTests", dependencies: ["PvDExec"]),
        .testTarget(
            name: "pvddTests", dependencies: ["pvdd", "TestSupport", "BusWire", "PvDConfig", "PvDCore", "PvDWire", "LinuxSystem", "HostNet", "NDP"]),
        .testTarget(name: "PvDCLITests", dependencies: ["pvd-cli", "BusWire", "PvDWire"]),
    ],
    swiftLanguageModes: [.v6]
)
