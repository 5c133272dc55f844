import CommandSyntax
import Glibc
import PvDCore
import PvDWire

/// `pvd-hostnet bench`: brings up and tears down N domains through HostNet,
/// then does the same work with an equivalent script of `ip` commands, and
/// reports total and per-domain times for each N. Run it in a scratch "host"
/// namespace whose uplink has a router at `--router`.
struct Bench {
    static let command = Command(
        "bench", abstract: "Time bringing up and tearing down N domains, HostNet against an equivalent ip script.",
        options: [
            .value("uplink", help: "The uplink in this namespace."),
            .value("router", "address", help: "The router's link-local address on the uplink (default fe80::1)."),
            .value("counts", "n", help: "Numbers of domains (default 1 10 100 500).", takesSeveral: true),
            .value("output", "file", help: "Also write the report to this file."),
            .value("scratch", "directory", help: "Directory for the generated scripts (default /tmp)."),
            .value("name-prefix", "prefix", help: "Prefix of the benchmark's domain names (default bench-)."),
        ],
        action: { try Bench($0).run() })

    let uplink, router, scratch, namePrefix: String
    let counts: [Int]
    let output: String?

    init(_ arguments: Arguments) throws(UsageError) {
        guard let uplink = arguments.value("uplink") else { throw UsageError("which uplink? --uplink IF") }
        self.uplink = uplink
        router = arguments.value("router") ?? "fe80::1"
        let counts = try arguments.values("counts", as: Int.self)
        self.counts = counts.isEmpty ? [1, 10, 100, 500] : counts
        output = arguments.value("output")
        scratch = arguments.value("scratch") ?? "/tmp"
        namePrefix = arguments.value("name-prefix") ?? "bench-"
        guard self.counts.allSatisfy({ (1...4096).contains($0) }) else { throw UsageError("counts must be 1 to 4096") }
        guard IPv6Address(router) != nil else { throw UsageError("--router must be an IPv6 address") }
    }

    /// Domain `index` of a run: its own /64, the router, one DNS server.
    func spec(_ prefix: String, _ index: Int) -> DomainSpec {
        let network = IPv6Prefix(address: IPv6Address(high: 0x2001_0DB8_0000_0000 | UInt64(index) << 16, low: 0), length: 64)!
        return DomainSpec(
            name: "\(prefix)\(index)", uplink: uplink,
            addresses: [StableAddress.address(in: network, domain: "\(prefix)\(index)", secret: [1])],
            routers: [IPv6Address(router)!], onLinkPrefixes: [network],
            dnsServers: [IPv6Address(high: network.address.high, low: 0x53)])
    }

    func run() throws {
        let net = try hostNet()
        let clock = ContinuousClock()
        func seconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }
        var report = "# pvd-hostnet bench: bring up and tear down N domains on one uplink; total ms (ms per domain)\n"
        report +=
            "# N | HostNet up | HostNet down one at a time | HostNet down all at once | ip script up | ip script down"
            + " | speed-up per domain, up + down one at a time | up + down all at once\n"
        for count in counts {
            let specs = (0..<count).map { spec(namePrefix + "h", $0) }
            func bringUp() throws -> Duration {
                try clock.measure {
                    for spec in specs {
                        do { try net.apply(spec) } catch { throw failure("apply \(spec.name): \(error)") }
                    }
                }
            }
            let up = try bringUp()
            let downEach = try clock.measure {
                for spec in specs {
                    do { try net.remove([spec.name]) } catch { throw failure("remove \(spec.name): \(error)") }
                }
            }
            _ = try bringUp()
            let downAll = try clock.measure {
                do { try net.remove(specs.map(\.name)) } catch { throw failure("remove: \(error)") }
            }
            let scriptSpecs = (0..<count).map { spec(namePrefix + "s", $0) }
            let (upScript, downScript) = try scripts(scriptSpecs)
            let scriptUp = try clock.measure { try runScript(upScript) }
            let scriptDown = try clock.measure { try runScript(downScript) }
            let n = Double(count)
            let (u, de, da) = (seconds(up) * 1000, seconds(downEach) * 1000, seconds(downAll) * 1000)
            let (su, sd) = (seconds(scriptUp) * 1000, seconds(scriptDown) * 1000)
            func f(_ value: Double) -> String { String(Int((value * 100).rounded())).paddedDecimal }
            func cell(_ total: Double) -> String { "\(f(total)) (\(f(total / n)))" }
            report +=
                "\(count) | \(cell(u)) | \(cell(de)) | \(cell(da)) | \(cell(su)) | \(cell(sd))"
                + " | \(f((su + sd) / (u + de)))x | \(f((su + sd) / (u + da)))x\n"
            print(report.split(separator: "\n").last!)
        }
        if let output {
            let file = fopen(output, "w")
            guard let file else { throw failure("cannot write \(output)") }
            fputs(report, file)
            fclose(file)
        }
    }

    /// The same kernel state as HostNet makes, as the `ip` and `sysctl`
    /// commands an administrator would write, one domain after another.
    func scripts(_ specs: [DomainSpec]) throws -> (up: String, down: String) {
        var up = "set -e\n"
        var down = "set -e\n"
        for (index, spec) in specs.enumerated() {
            let naming = try DomainNaming(name: spec.name, slot: UInt16(0x8000 + index))
            let (ns, veth, table) = (naming.namespace, naming.hostLink, naming.table)
            let address = spec.addresses[0]
            up += """
                ip netns add \(ns)
                ip -n \(ns) link set lo up
                ip netns exec \(ns) sysctl -qw net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.all.addr_gen_mode=1 net.ipv6.conf.default.addr_gen_mode=1
                ip link add \(veth) type veth peer name pvd0 netns \(ns)
                sysctl -qw net.ipv6.conf.\(veth).accept_ra=0 net.ipv6.conf.\(veth).addr_gen_mode=1 net.ipv6.conf.\(veth).force_forwarding=1
                ip link set \(veth) up
                ip addr add fe80::1/64 dev \(veth) nodad
                ip -n \(ns) link set pvd0 up mtu 1500
                ip -n \(ns) addr add fe80::2/64 dev pvd0 nodad
                ip -n \(ns) addr add \(address)/128 dev pvd0 nodad
                ip -n \(ns) route add default via fe80::1 dev pvd0
                ip route add \(address)/128 dev \(veth)
                ip neigh add proxy \(address) dev \(uplink)
                ip route add \(spec.onLinkPrefixes[0]) dev \(uplink) table \(table)
                ip route add default via \(spec.routers[0]) dev \(uplink) table \(table)
                ip -6 rule add from \(address) iif \(veth) lookup \(table) priority \(naming.rulePriority)
                ip -6 rule add iif \(veth) blackhole priority \(naming.dropRulePriority)
                mkdir -p /etc/netns/\(ns)
                printf 'nameserver %s\\n' \(spec.dnsServers[0]) >/etc/netns/\(ns)/resolv.conf

                """
            down += """
                ip -6 rule del priority \(naming.rulePriority)
                ip -6 rule del priority \(naming.dropRulePriority)
                ip -6 route flush table \(table)
                ip neigh del proxy \(address) dev \(uplink)
                ip link del \(veth)
                ip netns del \(ns)
                rm -rf /etc/netns/\(ns)

                """
        }
        return (up, down)
    }

    func runScript(_ text: String) throws {
        let path = "\(scratch)/pvd-hostnet-bench-\(getpid()).sh"
        guard let file = fopen(path, "w") else { throw failure("cannot write \(path)") }
        fputs(text, file)
        fclose(file)
        let status = system("/bin/sh -x \(path) 2>\(path).log")
        guard status == 0 else { throw failure("the ip script failed (status \(status)); see \(path) and \(path).log") }
        unlink(path)
        unlink(path + ".log")
    }
}

extension String {
    /// "12345" (hundredths) → "123.45".
    var paddedDecimal: String {
        let digits = count < 3 ? String(repeating: "0", count: 3 - count) + self : self
        return "\(digits.dropLast(2)).\(digits.suffix(2))"
    }
}
