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
/// - IPv4 through NAT when the spec asks for it (KernelHostNet+IPv4.swift).
public final class KernelHostNet: HostNetworking {
    /// One uplink of a routed domain, numbered as its routing table is.
    struct UplinkPart {
        var index: Int
        var link: KernelLink
        var addresses: [IPv6Address]
        var routers: [IPv6Address]
        var onLinkPrefixes: [IPv6Prefix]
        var nextHops: [IPv6Address: [IPv6Address]]
    }

    /// Where per-namespace files live (iproute2's `ip netns exec` binds them).
    /// Whether this kernel can give domains a macvlan attachment.
    public var supportsMacvlan: Bool { host.supportsMacvlan() }

    /// Fault injection for tests: the apply step with this number fails.
    public var failAtStep: Int?
    /// How the kernel is told to forward for routed domains.
    public var forwarding = ForwardingMode.automatic
    /// Sends a Router Solicitation on an interface whose RA-learnt default
    /// route the kernel dropped when forwarding was turned on (NDP does it).
    public var solicitRouters: ((String) -> Void)?
    /// Asked about every address before it is first used; nil skips DAD.
    public var duplicateAddressDetection: (any DuplicateAddressDetection)?

    let host: NetlinkSocket
    /// Sockets inside VPN domains, kept for ``tunnel(in:)``.
    var tunnelSockets: [String: NetlinkSocket] = [:]

    public init() throws(SystemError) {
        host = try NetlinkSocket(namespace: "host")
    }

    // MARK: Apply

    public func apply(_ spec: DomainSpec) throws(SystemError) {
        let transaction = Transaction(failAtStep: failAtStep)
        do {
            try apply(spec, transaction)
        } catch {
            let undoFailures = transaction.rollback()
            guard !undoFailures.isEmpty else { throw error }
            var combined = error
            combined.reason += "; undoing also failed: " + undoFailures.map(\.description).joined(separator: "; ")
            throw combined
        }
    }

    private func apply(_ spec: DomainSpec, _ transaction: Transaction) throws(SystemError) {
        do { try DomainNaming.validate(spec.name) } catch {
            throw SystemError(step: "check domain name", object: spec.name, reason: error.description)
        }
        guard let uplink = try host.link(named: spec.uplink) else {
            throw SystemError(step: "find uplink", object: spec.uplink, reason: "no such link", code: -ENODEV)
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
                throw SystemError(step: "find uplink", object: other.uplink, reason: "no such link", code: -ENODEV)
            }
            parts.append(
                UplinkPart(
                    index: parts.count, link: link, addresses: other.addresses, routers: other.routers,
                    onLinkPrefixes: other.onLinkPrefixes, nextHops: other.nextHops))
        }
        if spec.attachment == .macvlan, !host.supportsMacvlan() {
            throw SystemError(
                step: "attach", object: "\(spec.name) by macvlan on \(spec.uplink)",
                reason: "this kernel has no macvlan; use the routed attachment", code: EOPNOTSUPP)
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
                    reason: "it exists but is not a domain of this host", code: EEXIST)
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
        let inside = try Namespaces.run(in: namespaceFD, name: namespace) { () throws(SystemError) -> NetlinkSocket in
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
        try applyInsideRoutes(spec, inside: inside, domainLink: domainLink, transaction)
        try applyTables(parts, naming: naming, fresh: fresh, transaction)
        try applyRules(parts, naming: naming, fresh: fresh, transaction)
        try applyHostSettings(spec.name, transaction)
        for part in parts { try applyUplinkSysctls(part.link.name, domain: spec.name, transaction) }
        try applyIPv4(
            spec, naming: naming, inside: inside, domainLink: domainLink, hostLink: hostLink, uplink: uplink,
            fresh: fresh, transaction)
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
        let fd = try Namespaces.openDescriptor(namespace)
        defer { close(fd) }
        let inside = try Namespaces.run(in: fd, name: namespace) { () throws(SystemError) in try NetlinkSocket(namespace: namespace) }
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

    /// Refuses addresses the host already uses, then asks the link (DAD).
    func checkNewAddresses(_ addresses: [IPv6Address], uplink: String) throws(SystemError) {
        for address in addresses where isLocalAddress(address) {
            throw SystemError(step: "check address", object: "\(address)", reason: "already in use by the host", code: EADDRINUSE)
        }
        if let detection = duplicateAddressDetection, !addresses.isEmpty {
            let inUse = try detection.addressesInUse(addresses, onUplink: uplink)
            if let taken = inUse.min() {
                throw SystemError(
                    step: "duplicate address detection", object: "\(taken) on \(uplink)",
                    reason: "another node answers for it", code: EADDRINUSE)
            }
        }
    }

    private func applyAddresses(
        naming: DomainNaming, inside: NetlinkSocket, domainLink: KernelLink, hostLink: KernelLink,
        parts: [UplinkPart], fresh: Bool, _ transaction: Transaction
    ) throws(SystemError) {
        let hostLinkLocal = KernelAddress(interfaceIndex: hostLink.index, address: DomainNaming.hostLinkLocal, prefixLength: 64)
        let hasHostLinkLocal = fresh ? false : try host.addresses().contains(hostLinkLocal)
        if !hasHostLinkLocal {
            try addAddress(hostLinkLocal, on: hostLink.name, socket: host, transaction)
        }
        let insideAddresses = try inside.addresses().filter { $0.interfaceIndex == domainLink.index }
        let domainLinkLocal = KernelAddress(interfaceIndex: domainLink.index, address: DomainNaming.domainLinkLocal, prefixLength: 64)
        if !insideAddresses.contains(domainLinkLocal) {
            try addAddress(domainLinkLocal, on: DomainNaming.domainLink, socket: inside, transaction)
        }

        // Where each address is to be proxied, and where it is now.
        var wantedUplink: [IPv6Address: KernelLink] = [:]
        for part in parts { for address in part.addresses { wantedUplink[address] = part.link } }
        let wanted = Set(wantedUplink.keys.map { KernelAddress(interfaceIndex: domainLink.index, address: $0, prefixLength: 128) })
        let present = Set(insideAddresses.filter { !$0.address.isLinkLocal })
        let hostRoutes =
            fresh
            ? []
            : try host.routes(table: UInt32(RT_TABLE_MAIN.rawValue)).filter {
                $0.interfaceIndex == hostLink.index && $0.destination.length == 128
            }
        let mine = Set(present.map(\.address))
        var proxiedOn: [IPv6Address: KernelLink] = [:]
        for proxy in fresh ? [] : try host.proxies() where mine.contains(proxy.address) {
            proxiedOn[proxy.address] = try host.link(index: proxy.interfaceIndex)
        }
        for extra in present.subtracting(wanted) {
            try removeDomainAddress(
                extra.address, naming: naming, inside: inside, hostLink: hostLink, proxiedOn: proxiedOn[extra.address],
                hostRoute: hostRoutes.contains { $0.destination.address == extra.address }, transaction)
        }
        let newAddresses = wanted.subtracting(present).map(\.address).sorted()
        for part in parts {
            try checkNewAddresses(newAddresses.filter(part.addresses.contains), uplink: part.link.name)
        }
        for missing in newAddresses {
            try addAddress(
                KernelAddress(interfaceIndex: domainLink.index, address: missing, prefixLength: 128),
                on: DomainNaming.domainLink, socket: inside, transaction)
        }
        for (address, uplink) in wantedUplink.sorted(by: { $0.key < $1.key }) {
            if !hostRoutes.contains(where: { $0.destination.address == address }) {
                let route = KernelRoute(
                    destination: IPv6Prefix(address: address, length: 128)!, table: UInt32(RT_TABLE_MAIN.rawValue),
                    interfaceIndex: hostLink.index, gateways: [])
                try addRoute(route, linkName: hostLink.name, socket: host, transaction)
            }
            let current = proxiedOn[address]
            guard current?.index != uplink.index else { continue }
            if let current { try deleteProxy(address, on: current, transaction) }
            try transaction.step(
                "add proxy NDP entry", "\(address) on \(uplink.name)",
                { () throws(SystemError) in
                    try host.addProxy(address, interfaceIndex: uplink.index, linkName: uplink.name)
                }, undo: { () throws(SystemError) in try self.host.deleteProxy(address, interfaceIndex: uplink.index, linkName: uplink.name) })
        }
    }

    private func deleteProxy(_ address: IPv6Address, on uplink: KernelLink, _ transaction: Transaction) throws(SystemError) {
        try transaction.step(
            "delete proxy NDP entry", "\(address) on \(uplink.name)",
            { () throws(SystemError) in
                try host.deleteProxy(address, interfaceIndex: uplink.index, linkName: uplink.name)
            }, undo: { () throws(SystemError) in try self.host.addProxy(address, interfaceIndex: uplink.index, linkName: uplink.name) })
    }

    private func removeDomainAddress(
        _ address: IPv6Address, naming: DomainNaming, inside: NetlinkSocket, hostLink: KernelLink,
        proxiedOn uplink: KernelLink?, hostRoute: Bool, _ transaction: Transaction
    ) throws(SystemError) {
        if let uplink { try deleteProxy(address, on: uplink, transaction) }
        if hostRoute {
            let route = KernelRoute(
                destination: IPv6Prefix(address: address, length: 128)!, table: UInt32(RT_TABLE_MAIN.rawValue),
                interfaceIndex: hostLink.index, gateways: [])
            try transaction.step(
                "delete route", "\(address)/128 dev \(hostLink.name)",
                { () throws(SystemError) in
                    try host.deleteRoute(route, linkName: hostLink.name)
                }, undo: { () throws(SystemError) in try self.host.addRoute(route, linkName: hostLink.name) })
        }
        let entry = KernelAddress(interfaceIndex: try inside.link(named: DomainNaming.domainLink)!.index, address: address, prefixLength: 128)
        try transaction.step(
            "delete address", "\(address)/128 in \(naming.namespace)",
            { () throws(SystemError) in
                try inside.deleteAddress(entry, on: DomainNaming.domainLink)
            }, undo: { () throws(SystemError) in try inside.addAddress(entry, on: DomainNaming.domainLink) })
    }

    func addAddress(
        _ entry: KernelAddress, on linkName: String, socket: NetlinkSocket,
        _ transaction: Transaction
    ) throws(SystemError) {
        try transaction.step(
            "add address", "\(entry.address)/\(entry.prefixLength) on \(linkName) in \(socket.namespace)",
            { () throws(SystemError) in
                try socket.addAddress(entry, on: linkName)
            }, undo: { () throws(SystemError) in try socket.deleteAddress(entry, on: linkName) })
    }

    private func addRoute(
        _ route: KernelRoute, linkName: String, socket: NetlinkSocket,
        _ transaction: Transaction
    ) throws(SystemError) {
        try transaction.step(
            "add route", "\(route.destination) table \(route.table) in \(socket.namespace)",
            { () throws(SystemError) in
                try socket.addRoute(route, linkName: linkName)
            }, undo: { () throws(SystemError) in try socket.deleteRoute(route, linkName: linkName) })
    }

    private func deleteRoute(
        _ route: KernelRoute, linkName: String, socket: NetlinkSocket,
        _ transaction: Transaction
    ) throws(SystemError) {
        try transaction.step(
            "delete route", "\(route.destination) table \(route.table) in \(socket.namespace)",
            { () throws(SystemError) in
                try socket.deleteRoute(route, linkName: linkName)
            }, undo: { () throws(SystemError) in try socket.addRoute(route, linkName: linkName) })
    }

    /// Makes `present` (routes of one table and link) equal to `wanted`.
    func reconcile(
        routes wanted: [KernelRoute], present: [KernelRoute], linkName: String, socket: NetlinkSocket,
        _ transaction: Transaction
    ) throws(SystemError) {
        func key(_ route: KernelRoute) -> KernelRoute {
            var route = route
            route.gateways.sort()
            return route
        }
        let wantedKeys = Set(wanted.map(key))
        let presentKeys = Set(present.map(key))
        for extra in present where !wantedKeys.contains(key(extra)) {
            try deleteRoute(extra, linkName: linkName, socket: socket, transaction)
        }
        for missing in wanted where !presentKeys.contains(key(missing)) {
            try addRoute(missing, linkName: linkName, socket: socket, transaction)
        }
    }

    private func applyInsideRoutes(
        _ spec: DomainSpec, inside: NetlinkSocket, domainLink: KernelLink,
        _ transaction: Transaction
    ) throws(SystemError) {
        let main = UInt32(RT_TABLE_MAIN.rawValue)
        let wanted = ([IPv6Prefix(address: .unspecified, length: 0)!] + spec.routes).map {
            KernelRoute(destination: $0, table: main, interfaceIndex: domainLink.index, gateways: [DomainNaming.hostLinkLocal])
        }
        let present = try inside.routes(table: main).filter {
            $0.interfaceIndex == domainLink.index && $0.gateways == [DomainNaming.hostLinkLocal]
        }
        try reconcile(routes: wanted, present: present, linkName: DomainNaming.domainLink, socket: inside, transaction)
    }

    /// One routing table per uplink: its on-link prefixes, the default route
    /// via the PvD's routers there and, for an address whose prefix only some
    /// of them advertised, a default route from that address via those
    /// (RFC 8028; the more specific source wins); tables of uplinks no longer
    /// used are emptied.
    private func applyTables(_ parts: [UplinkPart], naming: DomainNaming, fresh: Bool, _ transaction: Transaction) throws(SystemError) {
        for index in 0..<DomainNaming.maximumUplinks {
            let table = naming.table(uplink: index)
            guard index < parts.count else {
                if !fresh {
                    for route in try host.routes(table: table) {
                        try deleteRoute(route, linkName: "table \(table)", socket: host, transaction)
                    }
                }
                continue
            }
            let part = parts[index]
            var wanted = part.onLinkPrefixes.map {
                KernelRoute(destination: $0, table: table, interfaceIndex: part.link.index, gateways: [])
            }
            let anywhere = IPv6Prefix(address: .unspecified, length: 0)!
            if !part.routers.isEmpty {
                wanted.append(KernelRoute(destination: anywhere, table: table, interfaceIndex: part.link.index, gateways: part.routers))
            }
            for (address, routers) in part.nextHops.sorted(by: { $0.key < $1.key }) where part.addresses.contains(address) && !routers.isEmpty {
                wanted.append(
                    KernelRoute(
                        destination: anywhere, table: table, interfaceIndex: part.link.index, gateways: routers,
                        source: IPv6Prefix(address: address, length: 128)))
            }
            let present = fresh ? [] : try host.routes(table: table)
            try reconcile(routes: wanted, present: present, linkName: part.link.name, socket: host, transaction)
        }
    }

    private func applyRules(
        _ parts: [UplinkPart], naming: DomainNaming, fresh: Bool,
        _ transaction: Transaction
    ) throws(SystemError) {
        var wanted = KernelHostNet.lookupRules(parts.map { ($0.index, $0.addresses) }, naming: naming)
        wanted.append(KernelRule(priority: naming.dropRulePriority, source: nil, inputInterface: naming.hostLink, action: .blackhole))
        let present =
            fresh
            ? []
            : try host.rules().filter {
                $0.priority == naming.rulePriority || $0.priority == naming.dropRulePriority
            }
        for extra in present where !wanted.contains(extra) {
            try transaction.step(
                "delete rule", "\(extra)", { () throws(SystemError) in try host.deleteRule(extra) },
                undo: { () throws(SystemError) in try self.host.addRule(extra) })
        }
        for missing in wanted where !present.contains(missing) {
            try transaction.step(
                "add rule", "priority \(missing.priority) iif \(naming.hostLink)",
                { () throws(SystemError) in
                    try host.addRule(missing)
                }, undo: { () throws(SystemError) in try self.host.deleteRule(missing) })
        }
    }

    /// The rules sending each address's traffic to its uplink's table.
    static func lookupRules(_ addressesByUplink: [(index: Int, addresses: [IPv6Address])], naming: DomainNaming) -> [KernelRule] {
        addressesByUplink.flatMap { part in
            part.addresses.map {
                KernelRule(
                    priority: naming.rulePriority, source: IPv6Prefix(address: $0, length: 128),
                    inputInterface: naming.hostLink, action: .lookup(naming.table(uplink: part.index)))
            }
        }
    }

    /// Sets sysctls of an uplink (or the host), keeping each one's original
    /// value in `record` (the first change's), and records `domain` as a
    /// user. Where turning an IPv6 forwarding flag on made the kernel drop
    /// learnt default routes, their routers are solicited.
    func set(
        _ settings: [(String, String)], recordedIn record: UplinkRecord, user domain: String,
        _ transaction: Transaction
    ) throws(SystemError) {
        let savedBefore = record.originals()
        var saved = savedBefore
        var learntRoutes: Set<Int32>?
        for (key, value) in settings {
            let old = try Sysctl.read(key)
            guard old != value else { continue }
            if saved[key] == nil { saved[key] = old }
            if learntRoutes == nil, value == "1", key.hasPrefix("/proc/sys/net/ipv6/"), key.hasSuffix("/forwarding") {
                learntRoutes = try interfacesWithLearntDefaultRoutes()
            }
            try transaction.step(
                "set sysctl", "\(key)=\(value)", { () throws(SystemError) in try Sysctl.write(key, value) },
                undo: { () throws(SystemError) in try Sysctl.write(key, old) })
        }
        if let learntRoutes { try solicitWhereRoutesWereLost(learntRoutes) }
        if saved != savedBefore {
            try transaction.step(
                "record uplink sysctls", record.directory,
                { () throws(SystemError) in
                    try record.saveOriginals(saved)
                }, undo: { () throws(SystemError) in try record.saveOriginals(savedBefore) })
        }
        if !record.uses(domain) {
            try transaction.step(
                "record uplink user", "\(record.directory) \(domain)",
                { () throws(SystemError) in
                    try record.addUser(domain)
                }, undo: { () throws(SystemError) in try record.removeUser(domain) })
        }
    }

    /// Writes `/etc/netns/<namespace>/resolv.conf` when it differs and, with
    /// the first one, `nsswitch.conf` (``DomainEntry`` and `ip netns exec` bind
    /// both over /etc); undone by putting back what was there.
    func writeResolvConf(_ text: String, namespace: String, _ transaction: Transaction) throws(SystemError) {
        let directory = Paths.files(ofNamespace: namespace)
        let old = HostFiles.read("\(directory)/resolv.conf")
        guard old != text else { return }
        try transaction.step(
            "write", "\(directory)/resolv.conf",
            { () throws(SystemError) in
                try HostFiles.writeAtomically(directory: directory, name: "resolv.conf", contents: text)
                if old == nil {
                    try HostFiles.writeAtomically(directory: directory, name: "nsswitch.conf", contents: KernelHostNet.domainNsswitch())
                }
            },
            undo: { () throws(SystemError) in
                if let old {
                    try HostFiles.writeAtomically(directory: directory, name: "resolv.conf", contents: old)
                } else {
                    try KernelHostNet.removeNetnsFiles(namespace)
                }
            })
    }

    /// The host's nsswitch.conf with `hosts: files dns`, so that inside a
    /// domain no other source (systemd-resolved, mDNS, the host's caches) answers.
    static func domainNsswitch() -> String {
        let lines = (HostFiles.read("/etc/nsswitch.conf") ?? "").split(separator: "\n")
            .filter { !$0.drop(while: { $0 == " " || $0 == "\t" }).hasPrefix("hosts:") }
        return "# Written by pvdd: the host's, with host names from files and the domain's DNS only.\n"
            + lines.map { $0 + "\n" }.joined() + "hosts: files dns\n"
    }

    /// Removes the domain's files under /etc/netns (and the directory, once empty).
    static func removeNetnsFiles(_ namespace: String) throws(SystemError) {
        let directory = Paths.files(ofNamespace: namespace)
        try HostFiles.remove(directory: directory, name: "nsswitch.conf")
        try HostFiles.remove(directory: directory, name: "resolv.conf")
    }
}
