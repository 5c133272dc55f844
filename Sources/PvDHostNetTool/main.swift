// pvd-hostnet: applies, lists and removes domains through HostNet alone, in the
// namespace it runs in — for integration tests (started with nsenter into a
// test's "host" namespace) and the HostNet benchmark. The daemon does the same
// from RAs; this tool takes the desired state as JSON.
import CommandSyntax
import Glibc
@_spi(FaultInjection) import HostNet
import NDP
import PvDCore
import PvDWire

let hostNetTool = Command(
    "pvd-hostnet", abstract: "Apply, list and remove pvd domains in this network namespace through HostNet.",
    subcommands: [
        Command(
            "apply", abstract: "Apply the domains in FILE (a JSON object or array; see DomainSpecJSON.swift).",
            arguments: [Argument("file", help: "The specs.", completion: .file)],
            options: [
                .value("fail-at-step", "n", help: "Make apply step N (from 1) fail, to test rollback."),
                .flag("dad", help: "Probe new addresses on the uplink with libndp before using them."),
            ],
            action: { try apply($0.argument("file") ?? "", failAtStep: try $0.value("fail-at-step", as: Int.self), dad: $0.flag("dad")) }),
        Command(
            "remove", abstract: "Remove domains by name.", arguments: [Argument("names", help: "The domains.", repeats: true)],
            action: { try remove($0.arguments("names")) }),
        Command("list", abstract: "Print the domains read back from the kernel, as JSON lines.", action: { _ in try list() }),
        Command(
            "cleanup", abstract: "Remove every pvd domain and stray object not named by --keep.",
            options: [.value("keep", "name", help: "A domain to keep.", repeats: true)], action: { try cleanup(keeping: $0.values("keep")) }),
        Bench.command,
        Command("features", abstract: "Print which attachments this kernel supports.", action: { _ in try features() }),
    ])

/// Duplicate address detection as pvdd does it (DomainTable's probes), but
/// waiting: the spec's addresses that are new on each uplink, asked on that
/// uplink with libndp before HostNet is given the spec.
func checkAddresses(of spec: DomainSpec, present: DomainSpec?, prober: NeighborProber) throws(SystemError) {
    let existing = Set(present?.allAddresses ?? [])
    let parts = [(spec.uplink, spec.addresses)] + spec.otherUplinks.map { ($0.uplink, $0.addresses) }
    for (uplink, addresses) in parts {
        let new = addresses.filter { !existing.contains($0) }
        guard !new.isEmpty, let taken = try prober.answered(new, on: uplink).min() else { continue }
        throw SystemError(
            step: "duplicate address detection", object: "\(taken) on \(uplink)", reason: "another node answers for it", code: .errno(EADDRINUSE))
    }
}

/// Reports on stderr and exits 1.
func failure(_ message: String) -> ExitStatus {
    var line = "pvd-hostnet: \(message)\n"
    line.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    return ExitStatus(1)
}

func hostNet() throws -> KernelHostNet {
    do { return try KernelHostNet() } catch { throw failure("\(error)") }
}

func apply(_ file: String, failAtStep: Int?, dad: Bool) throws {
    let specs = try readSpecs(file)
    let net = try hostNet()
    net.failAtStep = failAtStep
    let prober: NeighborProber?
    do { prober = dad ? try NeighborProber() : nil } catch { throw failure("\(error)") }
    for spec in specs {
        do {
            if let prober { try checkAddresses(of: spec, present: try net.domains().first { $0.name == spec.name }, prober: prober) }
            try net.apply(spec)
        } catch { throw failure("apply \(spec.name): \(error)") }
    }
}

func remove(_ names: [String]) throws {
    let net = try hostNet()
    do { try net.remove(names) } catch { throw failure("remove: \(error)") }
}

func list() throws {
    let net = try hostNet()
    do {
        for spec in try net.domains() { print(spec.json.serialized) }
    } catch { throw failure("\(error)") }
}

func features() throws {
    let net = try hostNet()
    print("routed: yes")
    print("macvlan: \(net.supportsMacvlan ? "yes" : "no")")
}

func cleanup(keeping keep: [String]) throws {
    let net = try hostNet()
    do {
        for name in try net.removeLeftovers(keeping: Set(keep)) { print("removed \(name)") }
    } catch { throw failure("\(error)") }
}

hostNetTool.main()
