// swift-tools-version:6.0
// pvd: provisioning domains as network namespaces. See README.md and docs/architecture.md.
import PackageDescription

/// A system library found through pkg-config, installed from Debian by the scripts.
func systemLibrary(_ name: String, pkgConfig: String, apt: String) -> Target {
    .systemLibrary(name: name, path: "Sources/\(name)", pkgConfig: pkgConfig, providers: [.apt([apt])])
}

// Small programs (docs/design.md, "Small and fast"; benchmarks/size.txt).
/// Every target that ships is built without the two modules Swift imports
/// implicitly: `_StringProcessing` (the regex engine, about 1 MB in each
/// program; PvDWire's TextSearch does what pvd needs) and `_Concurrency`
/// (with libdispatch; pvd has one event loop and no async code); release
/// builds are optimized for size (about 0.3 MB less, no measurable cost:
/// pvd's time goes to system calls).
let lean: [SwiftSetting] = [
    .unsafeFlags([
        "-Xfrontend", "-disable-implicit-string-processing-module-import", "-Xfrontend", "-disable-implicit-concurrency-module-import",
    ]),
    .unsafeFlags(["-Osize"], .when(configuration: .release)),
]
/// The programs are linked by lld with packed relative relocations
/// (DT_RELR, glibc 2.36): a position-independent pvdd keeps its relocations
/// in 3 KB instead of 420 KB.
let leanLink: [LinkerSetting] = [.unsafeFlags(["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"])]

let package = Package(
    name: "pvd",
    products: [
        .executable(name: "pvdd", targets: ["pvdd"]),
        .executable(name: "pvd", targets: ["pvd"]),
        .executable(name: "pvd-cli", targets: ["pvd-cli"]),
        .library(name: "PvDWire", targets: ["PvDWire"]),
    ],
    targets: [
        // C libraries and the one shim for what Swift cannot import.
        systemLibrary("CNDP", pkgConfig: "libndp", apt: "libndp-dev"),
        systemLibrary("CNetlinkRoute", pkgConfig: "libnl-route-3.0", apt: "libnl-route-3-dev"),
        systemLibrary("CSystemd", pkgConfig: "libsystemd", apt: "libsystemd-dev"),
        systemLibrary("CCap", pkgConfig: "libcap", apt: "libcap-dev"),
        systemLibrary("CYaml", pkgConfig: "yaml-0.1", apt: "libyaml-dev"),
        .target(name: "CPvDShim"),

        // Pure Swift: wire formats and the domain model.
        .target(name: "PvDWire", swiftSettings: lean),
        .target(name: "BusWire", swiftSettings: lean),
        // Command lines declared as data: parsing, help, manual pages and completions.
        .target(name: "CommandSyntax", swiftSettings: lean),
        .target(name: "PvDCore", dependencies: ["PvDWire"], swiftSettings: lean),
        // `pvd lab` and `pvd announce`: a lab's topology and plan, what a router announces.
        .target(name: "PvDLab", dependencies: ["PvDCore", "PvDWire"], swiftSettings: lean),
        // Reads the YAML configuration files into PvDCore values.
        .target(name: "PvDConfig", dependencies: ["PvDCore", "PvDWire", "CYaml"], swiftSettings: lean),

        // Thin system layers.
        // Syscalls, /proc, files, namespaces and child processes, with no
        // library beyond libc, so that the static `pvd` can link it.
        .target(name: "LinuxSystem", dependencies: ["PvDCore", "CPvDShim"], swiftSettings: lean),
        // The user database (NSS), which the static `pvd` must not link.
        .target(name: "UserDatabase", swiftSettings: lean),
        .target(name: "HostNet", dependencies: ["PvDCore", "PvDWire", "LinuxSystem", "CNetlinkRoute"], swiftSettings: lean),
        .target(name: "NDP", dependencies: ["PvDCore", "PvDWire", "LinuxSystem", "CNDP"], swiftSettings: lean),
        .target(name: "Systemd", dependencies: ["BusWire", "PvDCore", "LinuxSystem", "CSystemd", "CPvDShim"], swiftSettings: lean),
        // What `pvd exec` needs, free of libsystemd, libnl, NSS and Foundation
        // so that `pvd` links statically: entering a domain and the OpenDomain
        // call in the D-Bus wire format.
        .target(name: "PvDExec", dependencies: ["BusWire", "PvDCore", "LinuxSystem", "CPvDShim", "CCap"], swiftSettings: lean),

        // Programs.
        .executableTarget(
            name: "pvdd",
            dependencies: [
                "CommandSyntax", "PvDCore", "PvDConfig", "PvDWire", "BusWire", "LinuxSystem", "UserDatabase", "HostNet", "NDP", "Systemd",
            ], swiftSettings: lean, linkerSettings: leanLink),
        // `pvd` runs `pvd exec` and hands every other command to `pvd-cli`.
        .executableTarget(
            name: "pvd", dependencies: ["PvDExec", "LinuxSystem"], swiftSettings: lean, linkerSettings: leanLink + [.unsafeFlags(["-static-executable"])]),
        .executableTarget(
            name: "pvd-cli",
            dependencies: [
                "CommandSyntax", "PvDWire", "BusWire", "PvDCore", "PvDConfig", "PvDExec", "PvDLab", "LinuxSystem", "UserDatabase", "Systemd", "NDP",
            ], path: "Sources/PvDCLI", swiftSettings: lean, linkerSettings: leanLink),
        .executableTarget(name: "pvd-bench", dependencies: ["PvDWire"], path: "Sources/PvDBench"),
        // Drives HostNet directly for integration tests and its benchmark.
        .executableTarget(
            name: "pvd-hostnet",
            dependencies: [
                "CommandSyntax", "HostNet", "NDP", "PvDCore", "PvDWire", "LinuxSystem",
            ], path: "Sources/PvDHostNetTool"),

        // Test doubles and the fuzz corpora, shared by the unit tests; no program links them.
        .target(name: "TestSupport", dependencies: ["PvDCore"], path: "Tests/Support"),
        .testTarget(name: "PvDWireTests", dependencies: ["PvDWire"], exclude: ["scapy_vectors.py"]),
        .testTarget(name: "PvDCoreTests", dependencies: ["PvDCore", "PvDWire", "TestSupport"]),
        .testTarget(name: "PvDLabTests", dependencies: ["PvDLab", "PvDCore", "PvDWire"]),
        .testTarget(name: "PvDConfigTests", dependencies: ["PvDConfig", "PvDCore", "PvDWire", "BusWire", "TestSupport"]),
        .testTarget(name: "BusWireTests", dependencies: ["BusWire"]),
        .testTarget(name: "CommandSyntaxTests", dependencies: ["CommandSyntax", "PvDWire"]),
        .testTarget(name: "HostNetTests", dependencies: ["HostNet", "PvDCore", "PvDWire", "LinuxSystem", "CNetlinkRoute"]),
        .testTarget(name: "PvDExecTests", dependencies: ["PvDExec"]),
        .testTarget(
            name: "pvddTests", dependencies: ["pvdd", "TestSupport", "BusWire", "PvDConfig", "PvDCore", "PvDWire", "LinuxSystem", "HostNet", "NDP"]),
        .testTarget(name: "PvDCLITests", dependencies: ["pvd-cli", "BusWire", "PvDWire"]),
    ],
    swiftLanguageModes: [.v6]
)
