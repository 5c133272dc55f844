import CNetlinkRoute
import Glibc
import LinuxSystem
import PvDCore
import PvDWire

/// HostNetworking on the real kernel, for the network namespace of the calling
/// thread (the daemon's "host" namespace). See docs/design.md, "A domain on the host":
///
/// - namespace `/run/netns/pvd-<name>`, `lo` up, `accept_ra=0`, no
///   autoconfigured addresses;
/// - a veth `pvhXXXX` (host) / `pvd0` (domain); fe80::1 and fe80::2 on its ends;
/// - inside: the domain's addresses as /128, the default route and RIO routes
///   via fe80::1, the MTU;
/// - host side: a /128 route to each address over the veth, a proxy NDP entry
///   for it on its uplink, per uplink a routing table (0x7064XXXX for the
///   domain's own uplink, + 0x2000 for each further one) with the default
///   route via the PvD's routers there (and its on-link prefixes), the rule
///   `from <address> iif pvhXXXX lookup <its uplink's table>` and, one priority later,
///   `iif pvhXXXX blackhole`, which drops anything leaving the domain with a
///   source address that is not the domain's;
/// - forwarding only on the veth and the uplink (`force_forwarding`), or, on
///   kernels without it, global forwarding; `accept_ra=2` where it was 1, and
///   the nftables table `ip6 pvd` that forwards nothing but pvd's own traffic
///   (KernelHostNet+Forwarding.swift);
/// - `/etc/netns/pvd-<name>/resolv.conf`;
/// - IPv4 through NAT when the spec asks for it (KernelHostNet+IPv4.swift);
/// - published ports (KernelHostNet+Ports.swift).
public final class KernelHostNet: HostNetworking {
    /// One uplink of a routed domain, numbered as its routing table is.
    /// Whether this kernel can give domains a macvlan attachment.
    public var supportsMacvlan: Bool { host.supportsMacvlan() }

    /// Fault injection for the rollback tests (pvd-hostnet `--fail-at-step`):
    /// the apply step with this number fails. Outside the public API.
    @_spi(FaultInjection) public var failAtStep: Int?
    /// How the kernel is told to forward for routed domains.
    public var forwarding = ForwardingMode.automatic
    /// Sends a Router Solicitation on an interface whose RA-learnt default
    /// route the kernel dropped when forwarding was turned on (NDP does it).
    public var solicitRouters: ((String) -> Void)?
    /// Told before domains are removed, to close what it holds inside them
    /// (a ``LinkMonitor`` of a domain's namespace keeps the namespace alive).
    public var willRemove: (([String]) -> Void)?

    let host: NetlinkSocket
    /// Sockets inside VPN domains, kept for ``tunnel(in:)``.
    var tunnelSockets: [String: NetlinkSocket] = [:]
    /// The ports table this process last wrote for each domain (nil inside:
    /// none); a domain not in it has not been seen since the start.
    var portScripts: [String: String?] = [:]

    public init() throws(SystemError) {
        host = try NetlinkSocket(namespace: "host")
    }

    // MARK: Apply

    public func apply(_ spec: DomainSpec) throws(SystemError) {
        _ = try repair(spec)
    }

    /// ``apply(_:)``, returning what it changed: nothing when the kernel
    /// already matches `spec`, otherwise what another program had removed
    /// or changed and was put back ("add route …", "set link … up").
    public func repair(_ spec: DomainSpec) throws(SystemError) -> [String] {
        let transaction = Transaction(failAtStep: failAtStep)
        do {
            try apply(spec, transaction)
            return transaction.changes
        } catch {
            let undoFailures = transaction.rollback()
            guard !undoFailures.isEmpty else { throw error }
            var combined = error
            combined.reason += "; undoing also failed: " + undoFailures.map(\.description).joined(separator: "; ")
            throw combined
        }
    }

    /// A ``LinkMonitor`` of the domain `name`'s own namespace, to hear of
    /// what another program removes there.
    public static func monitor(ofDomain name: String) throws(SystemError) -> LinkMonitor {
        try Namespaces.run(inNamed: DomainNaming.namespace(ofDomain: name)) { () throws(SystemError) in try LinkMonitor() }
    }

    private func apply(_ spec: DomainSpec, _ transaction: Transaction) throws(SystemError) {
        do { try DomainNaming.validate(spec.name) } catch {
            throw SystemError(step: "check domain name", object: spec.name, reason: error.description)
        }
        guard let uplink = try host.link(named: spec.uplink) else {
            throw SystemError(step: "find uplink", object: spec.uplink, reason: "no such link", code: .errno(ENODEV))
        }
        var parts = [
            UplinkPart(
                index: 0, link: uplink, addresses: spec.addresses, routers: spec.routers,
                onLinkPrefixes: spec.onLinkPrefixes, nextHops: spec.nextHops)
        ]
        for other in spec.otherUplinks {
            guard spec.attachment == .routed, other.uplink != spec.uplink, parts.count < DomainNaming.maximumUplinks,
                !parts.contains(where: { $0.link.name == other.uplink })
            else {
                throw SystemError(
                    step: "attach", object: "\(spec.name) to \(other.uplink)",
                    reason: "a domain has up to \(DomainNaming.maximumUplinks) distinct uplinks, and a macvlan domain one")
            }
            guard let link = try host.link(named: other.uplink) else {
                throw SystemError(step: "find uplink", object: other.uplink, reason: "no such link", code: .errno(ENODEV))
            }
            parts.append(
                UplinkPart(
                    index: parts.count, link: link, addresses: other.addresses, routers: other.routers,
                    onLinkPrefixes: other.onLinkPrefixes, nextHops: other.nextHops))
        }
        if spec.attachment == .macvlan, !host.supportsMacvlan() {
            throw SystemError(
                step: "attach", object: "\(spec.name) by macvlan on \(spec.uplink)",
                reason: "this kernel has no macvlan; use the routed attachment", code: .errno(EOPNOTSUPP))
        }
        let registry = try DomainRegistry()
        if let registered = registry.uplink(of: spec.name), registered != spec.uplink {
            throw SystemError(
                step: "attach", object: "\(spec.name) to \(spec.uplink)",
                reason: "it is attached to \(registered); remove it to change that")
        }
        if !registry.contains(spec.name) {
            // A namespace of this name that this host never registered is someone
            // else's (another host namespace's domain, or a stray file): never adopt it.
            let namespace = DomainNaming.namespace(ofDomain: spec.name)
            guard !Namespaces.exists(namespace) else {
                throw SystemError(
                    step: "create namespace", object: namespace,
                    reason: "it exists but is not a domain of this host", code: .errno(EEXIST))
            }
            try transaction.step(
                "register domain", "\(registry.directory)/\(spec.name)",
                { () throws(SystemError) in
                    try registry.add(spec.name, uplink: spec.uplink)
                }, undo: { () throws(SystemError) in try registry.remove(spec.name) })
        }
        let naming = try naming(for: spec.name)
        let namespace = naming.namespace
        // A domain made from scratch has nothing on the host yet: skip the
        // host-wide reads, so bringing up a domain costs the same with 10 or 500 others.
        let fresh = !Namespaces.exists(namespace)

        if fresh {
            try transaction.step(
                "create namespace", namespace, { () throws(SystemError) in try Namespaces.create(namespace) },
                undo: { () throws(SystemError) in try Namespaces.delete(namespace) })
        }
        let namespaceFD = try Namespaces.openDescriptor(namespace)
        defer { close(namespaceFD) }
        let ping = KernelHostNet.domainPingGroupRange()
        let inside = try Namespaces.run(in: namespaceFD, name: namespace) { () throws(SystemError) -> NetlinkSocket in
            try KernelHostNet.setPingGroupRange(ping)
            for key in ["all", "default"] {
                try Sysctl.write(Sysctl.ipv6(key, "accept_ra"), "0")
                try Sysctl.write(Sysctl.ipv6(key, "addr_gen_mode"), "1")
            }
            return try NetlinkSocket(namespace: namespace)
        }
        if let loopback = try inside.link(named: "lo"), !loopback.isUp {
            try inside.setLink("lo", up: true)
        }

        if !fresh, let domainLink = try inside.link(named: DomainNaming.domainLink) {
            let routed = try host.link(index: domainLink.peerIndex).map { DomainNaming.slot(ofHostLink: $0.name) != nil } ?? false
            guard routed == (spec.attachment == .routed) else {
                throw SystemError(
                    step: "attach", object: "\(spec.name) by \(spec.attachment.rawValue)",
                    reason: "it is attached by \(routed ? "routed" : "macvlan"); remove it to change that")
            }
        }
        if spec.attachment == .macvlan {
            try applyMacvlan(spec, namespace: namespace, namespaceFD: namespaceFD, inside: inside, uplink: uplink, transaction)
            try writeResolvConf(spec.resolvConf, namespace: namespace, transaction)
            return
        }
        try attachVeth(naming, namespaceFD: namespaceFD, inside: inside, spec: spec, transaction)
        guard let hostLink = try host.link(named: naming.hostLink),
            let domainLink = try inside.link(named: DomainNaming.domainLink)
        else {
            throw SystemError(step: "find veth", object: naming.hostLink, reason: "vanished after creation")
        }

        try applyAddresses(
            naming: naming, inside: inside, domainLink: domainLink, hostLink: hostLink,
            parts: parts, fresh: fresh, transaction)
        try applyTables(parts, naming: naming, fresh: fresh, transaction)
        try applyRules(parts, naming: naming, fresh: fresh, transaction)
        try applyHostSettings(spec.name, transaction)
        for part in parts { try applyUplinkSysctls(part.link.name, domain: spec.name, transaction) }
        try applyIPv4(
            spec, naming: naming, inside: inside, domainLink: domainLink, hostLink: hostLink, uplink: uplink,
            fresh: fresh, transaction)
        try applyPorts(spec, naming: naming, fresh: fresh, transaction)
        // The domain's own routes last: once it can send, the host answers its
        // Neighbor Solicitations (the way back is in place) and forwards what
        // it sends. Before, a new domain's first solicitation could go
        // unanswered and its first packets wait the kernel's 1 s retransmit
        // (benchmarks/ra-latency.txt, measured by packets). The domain knows
        // its gateway's link-layer address from the start, so that it has
        // no solicitation to make (one sent before the kernel's linkwatch
        // work took the new links' carrier in was lost); and both ends of
        // the veth pair are running, or what they send is dropped.
        try inside.setNeighbor(
            DomainNaming.hostLinkLocal, at: hostLink.linkLayerAddress, interfaceIndex: domainLink.index, linkName: DomainNaming.domainLink)
        try KernelHostNet.waitUntilRunning(naming.hostLink, on: host)
        try KernelHostNet.waitUntilRunning(DomainNaming.domainLink, on: inside)
        try applyInsideRoutes(spec, inside: inside, domainLink: domainLink, transaction)
        try writeResolvConf(spec.resolvConf, namespace: namespace, transaction)
    }

    /// The naming of an existing domain of this name (its slot is in its host
    /// link's name), or a fresh one whose slot no other domain uses.
    private func naming(for name: String) throws(SystemError) -> DomainNaming {
        do {
            var naming = try DomainNaming(name: name)
            if let existing = try existingSlot(of: naming.namespace) {
                return try DomainNaming(name: name, slot: existing)
            }
            var probes = 0
            while try host.link(named: naming.hostLink) != nil {
                probes += 1
                guard probes < DomainNaming.slotCount else {
                    throw SystemError(
                        step: "choose routing table", object: name,
                        reason: "all \(DomainNaming.slotCount) slots are in use")
                }
                naming = try DomainNaming(name: name, slot: naming.slot + 1)
            }
            return naming
        } catch let error as DomainNameRuleError {
            throw SystemError(step: "check domain name", object: name, reason: error.description)
        } catch let error as SystemError {
            throw error
        } catch {
            throw SystemError(step: "choose routing table", object: name, reason: "\(error)")
        }
    }

    /// The slot of the host link whose veth peer is `pvd0` in `namespace`, if any.
    func existingSlot(of namespace: String) throws(SystemError) -> UInt16? {
        guard Namespaces.exists(namespace) else { return nil }
        let inside = try NetlinkSocket.inside(namespace)
        guard let domainLink = try inside.link(named: DomainNaming.domainLink),
            let hostLink = try host.link(index: domainLink.peerIndex)
        else { return nil }
        return DomainNaming.slot(ofHostLink: hostLink.name)
    }

    private func attachVeth(
        _ naming: DomainNaming, namespaceFD: Int32, inside: NetlinkSocket, spec: DomainSpec,
        _ transaction: Transaction
    ) throws(SystemError) {
        let hostName = naming.hostLink
        if try host.link(named: hostName) == nil {
            try transaction.step(
                "add veth", "\(hostName)/\(DomainNaming.domainLink) for \(naming.namespace)",
                { () throws(SystemError) in
                    try host.addVeth(hostName, peer: DomainNaming.domainLink, peerNamespace: namespaceFD)
                }, undo: { () throws(SystemError) in try self.host.deleteLink(hostName) })
            try Sysctl.write(Sysctl.ipv6(hostName, "accept_ra"), "0")
            try Sysctl.write(Sysctl.ipv6(hostName, "addr_gen_mode"), "1")
            if perInterfaceForwarding {
                try Sysctl.write(Sysctl.ipv6(hostName, "force_forwarding"), "1")
            }
        }
        let hostLink = try host.link(named: hostName)!
        if !hostLink.isUp { try host.setLink(hostName, up: true) }
        try configureDomainLink(spec, namespace: naming.namespace, inside: inside, transaction)
    }

    /// Waits, at most 100 ms, for `link` to be running (``KernelLink/isRunning``):
    /// a veth's carrier comes through the kernel's linkwatch work, usually
    /// within a millisecond of both ends being up. A link still not running
    /// then is left to come up on its own.
    static func waitUntilRunning(_ link: String, on socket: NetlinkSocket) throws(SystemError) {
        let deadline = SystemClock.monotonic + 0.1
        while try socket.link(named: link)?.isRunning == false, SystemClock.monotonic < deadline {
            usleep(200)
        }
    }

    /// `pvd0` up, with the spec's MTU (1500 when it gives none).
    func configureDomainLink(
        _ spec: DomainSpec, namespace: String, inside: NetlinkSocket,
        _ transaction: Transaction
    ) throws(SystemError) {
        let mtu = spec.mtu ?? 1500
        if let domainLink = try inside.link(named: DomainNaming.domainLink), !domainLink.isUp || domainLink.mtu != mtu {
            let oldMTU = domainLink.mtu
            try transaction.step(
                "set link", "\(DomainNaming.domainLink) up mtu \(mtu) in \(namespace)",
                { () throws(SystemError) in
                    try inside.setLink(DomainNaming.domainLink, up: true, mtu: mtu)
                }, undo: { () throws(SystemError) in try inside.setLink(DomainNaming.domainLink, up: domainLink.isUp, mtu: oldMTU) })
        }
    }

    /// Refuses addresses the host already uses. Whether another node on the
    /// link uses one is the caller's question, asked before the spec is made
    /// (DomainTable's probes in pvdd, `pvd-hostnet apply --dad`).
    func checkNewAddresses(_ addresses: [IPv6Address]) throws(SystemError) {
        for address in addresses where isLocalAddress(address) {
            throw SystemError(step: "check address", object: "\(address)", reason: "already in use by the host", code: .errno(EADDRINUSE))
        }
    }
}
