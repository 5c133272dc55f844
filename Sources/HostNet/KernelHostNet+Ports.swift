import LinuxSystem
import PvDCore
import PvDWire

/// Published ports (``DomainSpec/ports``, docs/services.md): the nftables
/// table `inet pvd_ports_pvhXXXX` of a routed domain, written whole (one nft
/// transaction) when the domain's ports or target addresses change and
/// deleted with the domain.
///
/// - `prerouting` (dstnat): a connection from a listed prefix, arriving on
///   any link but pvd's veths, to one of the host's own addresses
///   (`fib daddr type local`) at the host port is sent to the domain's first
///   address at the domain port (IPv4: the domain's end of its veth, when it
///   has IPv4);
/// - `output` (dstnat): the same for connections the host makes itself, to
///   its own addresses other than loopback (the kernel does not route a
///   loopback source out of the host);
/// - IPv4's way in: the domain's `ip pvd_pvhXXXX` table accepts what was
///   DNAT-ed (a drop in any base chain is final, so this table could not).
///
/// Nothing else of the domain is opened: its other ports are not reachable
/// through the host's addresses, and the domain reaches nothing new.
extension KernelHostNet {
    static let portsTablePrefix = "pvd_ports_"
    static func portsTable(_ naming: DomainNaming) -> String { portsTablePrefix + naming.hostLink }

    /// The table's script for `ports` into a domain at `ipv6` (and `ipv4`,
    /// the domain's end of the veth), or nil when there is nothing to publish.
    static func portsScript(table: String, ports: [PublishedPort], ipv6: IPv6Address?, ipv4: [UInt8]?) -> String? {
        guard !ports.isEmpty, ipv6 != nil || ipv4 != nil else { return nil }
        let veths = "\"\(DomainNaming.hostLinkPrefix)*\""
        var prerouting: [String] = []
        var output: [String] = []
        for port in ports {
            let match = "\(port.transport.rawValue) dport \(port.hostPort)"
            if let ipv6 {
                let target = "dnat ip6 to [\(ipv6)]:\(port.domainPort)"
                if !port.fromIPv6.isEmpty {
                    let sources = port.fromIPv6.map(\.description).joined(separator: ", ")
                    prerouting.append("iifname != \(veths) fib daddr type local ip6 saddr { \(sources) } \(match) \(target)")
                }
                if port.fromHost { output.append("fib daddr type local ip6 daddr != ::1 \(match) \(target)") }
            }
            if let ipv4 {
                let address = ipv4.map(String.init).joined(separator: ".")
                let target = "dnat ip to \(address):\(port.domainPort)"
                if !port.fromIPv4.isEmpty {
                    let sources = port.fromIPv4.map(\.description).joined(separator: ", ")
                    prerouting.append("iifname != \(veths) fib daddr type local ip saddr { \(sources) } \(match) \(target)")
                }
                if port.fromHost { output.append("fib daddr type local ip daddr != 127.0.0.0/8 \(match) \(target)") }
            }
        }
        func chain(_ name: String, _ header: String, _ rules: [String]) -> String {
            "  chain \(name) {\n    \(header)\n" + rules.map { "    \($0)\n" }.joined() + "  }\n"
        }
        return "table inet \(table) {}\ndelete table inet \(table)\ntable inet \(table) {\n"
            + chain("prerouting", "type nat hook prerouting priority dstnat; policy accept;", prerouting)
            + chain("output", "type nat hook output priority -100; policy accept;", output) + "}\n"
    }

    /// Writes the domain's ports table when it differs from what this
    /// process last wrote, and deletes it when the domain publishes nothing
    /// (``portScripts``: a domain this process has not seen yet, and did not
    /// make just now, is looked for once).
    func applyPorts(_ spec: DomainSpec, naming: DomainNaming, fresh: Bool, _ transaction: Transaction) throws(SystemError) {
        let table = KernelHostNet.portsTable(naming)
        let ipv4 = spec.ipv4 ? KernelHostNet.ipv4Link(slot: naming.slot).domain : nil
        let script = KernelHostNet.portsScript(table: table, ports: spec.ports, ipv6: spec.addresses.first, ipv4: ipv4)
        let known = portScripts[spec.name]
        if let known, known == script { return }
        if known == nil, script == nil {
            // A domain made just now has no table (a stray one from before went at the start).
            guard !fresh, try Nftables.tables(family: "inet").contains(table) else {
                portScripts[spec.name] = .some(nil)
                return
            }
        }
        let previous = known ?? nil
        try transaction.step(
            script == nil ? "delete nftables table" : "set nftables table", "inet \(table)",
            { () throws(SystemError) in
                try KernelHostNet.setPorts(script, table: table)
                self.portScripts[spec.name] = .some(script)
            },
            undo: { () throws(SystemError) in
                try KernelHostNet.setPorts(previous, table: table)
                self.portScripts[spec.name] = known
            })
    }

    /// Deletes the ports tables of domains being removed: those this process
    /// wrote, and those of domains it has not seen since it started that nft lists.
    func deletePorts(of removing: [Observed]) throws(SystemError) {
        let unknown = removing.contains { portScripts[$0.spec.name] == nil }
        let listed = unknown ? Set(try Nftables.tables(family: "inet")) : []
        for observed in removing {
            let table = KernelHostNet.portsTable(observed.naming)
            defer { portScripts[observed.spec.name] = nil }
            switch portScripts[observed.spec.name] {
            case .some(.some): try KernelHostNet.deletePorts(table)
            case .some(.none): continue
            case .none: if listed.contains(table) { try KernelHostNet.deletePorts(table) }
            }
        }
    }

    /// Writes `script`, or deletes `table` when there is none.
    static func setPorts(_ script: String?, table: String) throws(SystemError) {
        guard let script else { return try deletePorts(table) }
        try Nftables.run(script, step: "set nftables table", object: "inet \(table)")
    }

    /// Deletes a domain's ports table; an absent one is not an error.
    static func deletePorts(_ table: String) throws(SystemError) {
        try Nftables.run("table inet \(table) {}\ndelete table inet \(table)", step: "delete nftables table", object: "inet \(table)")
    }
}
