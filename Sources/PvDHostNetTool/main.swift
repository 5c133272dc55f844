// pvd-hostnet: applies, lists and removes domains through HostNet alone, in the
// namespace it runs in — for integration tests (started with nsenter into a
// test's "host" namespace) and the HostNet benchmark. The daemon does the same
// from RAs; this tool takes the desired state as JSON.
import ArgumentParser
import Glibc
@_spi(FaultInjection) import HostNet
import NDP
import PvDCore
import PvDWire

struct HostNetTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pvd-hostnet",
        abstract: "Apply, list and remove pvd domains in this network namespace through HostNet.",
        subcommands: [Apply.self, Remove.self, List.self, Cleanup.self, Bench.self, Features.self])
}

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
func failure(_ message: String) -> ExitCode {
    var line = "pvd-hostnet: \(message)\n"
    line.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    return ExitCode(1)
}

func hostNet() throws -> KernelHostNet {
    do { return try KernelHostNet() } catch { throw failure("\(error)") }
}

struct Apply: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply the domains in FILE (a JSON object or array; see DomainSpecJSON.swift).")

    @Argument var file: String
    @Option(help: "Make apply step N (from 1) fail, to test rollback.") var failAtStep: Int?
    @Flag(help: "Probe new addresses on the uplink with libndp before using them.") var dad = false

    func run() throws {
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
}

struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove domains by name.")
    @Argument var names: [String]

    func run() throws {
        let net = try hostNet()
        do { try net.remove(names) } catch { throw failure("remove: \(error)") }
    }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the domains read back from the kernel, as JSON lines.")

    func run() throws {
        let net = try hostNet()
        do {
            for spec in try net.domains() { print(spec.json.serialized) }
        } catch { throw failure("\(error)") }
    }
}

struct Features: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print which attachments this kernel supports.")

    func run() throws {
        let net = try hostNet()
        print("routed: yes")
        print("macvlan: \(net.supportsMacvlan ? "yes" : "no")")
    }
}

struct Cleanup: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove every pvd domain and stray object not named by --keep.")
    @Option(name: .customLong("keep")) var keep: [String] = []

    func run() throws {
        let net = try hostNet()
        do {
            for name in try net.removeLeftovers(keeping: Set(keep)) { print("removed \(name)") }
        } catch { throw failure("\(error)") }
    }
}

HostNetTool.main()
