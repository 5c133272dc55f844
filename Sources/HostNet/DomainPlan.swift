import CNetlinkRoute
import LinuxSystem
import PvDCore
import PvDWire

/// One uplink of a routed domain as HostNet applies it: the link, and the
/// domain's addresses, routers, on-link prefixes and per-address next hops
/// there. `index` is its place in the domain (its routing table).
struct UplinkPart {
    var index: Int
    var link: KernelLink
    var addresses: [IPv6Address]
    var routers: [IPv6Address]
    var onLinkPrefixes: [IPv6Prefix]
    var nextHops: [IPv6Address: [IPv6Address]]
}

/// What HostNet changes for a domain, worked out before anything changes:
/// pure functions from the wanted state and what the kernel has now to the
/// kernel objects to delete and to add, and the sysctls to write.
/// `KernelHostNet` reads the kernel, asks these, and executes the answer step
/// by step in a ``Transaction``. Unit tested without root (DomainPlanTests).
enum DomainPlan {
    /// The main routing table.
    static let mainTable = UInt32(RT_TABLE_MAIN.rawValue)
    static let anywhere = IPv6Prefix(address: .unspecified, length: 0)!

    /// Kernel objects to delete, then to add, in a stable order.
    struct Changes<Object: Hashable>: Equatable {
        var delete: [Object] = []
        var add: [Object] = []
        var isEmpty: Bool { delete.isEmpty && add.isEmpty }
    }

    /// What makes `present` equal to `wanted`; `key` says when two objects
    /// are the same (by default, equal).
    static func changes<Object: Hashable, Key: Hashable>(
        wanted: [Object], present: [Object], key: (Object) -> Key
    ) -> Changes<Object> {
        let wantedKeys = Set(wanted.map(key))
        let presentKeys = Set(present.map(key))
        return Changes(delete: present.filter { !wantedKeys.contains(key($0)) }, add: wanted.filter { !presentKeys.contains(key($0)) })
    }

    /// Routes compare without regard to the order of their gateways (the
    /// kernel reports a multipath route's next hops in its own order).
    static func routeChanges(wanted: [KernelRoute], present: [KernelRoute]) -> Changes<KernelRoute> {
        changes(wanted: wanted, present: present) { route in
            var route = route
            route.gateways.sort()
            return route
        }
    }

    static func ruleChanges(wanted: [KernelRule], present: [KernelRule]) -> Changes<KernelRule> {
        changes(wanted: wanted, present: present) { $0 }
    }

    /// Inside the domain: the default route and the PvD's routes, all via the
    /// host end of the veth.
    static func insideRoutes(_ spec: DomainSpec, domainLink: Int32) -> [KernelRoute] {
        ([anywhere] + spec.routes).map {
            KernelRoute(destination: $0, table: mainTable, interfaceIndex: domainLink, gateways: [DomainNaming.hostLinkLocal])
        }
    }

    /// An uplink's routing table: its on-link prefixes, the default route via
    /// the PvD's routers there and, for an address whose prefix only some of
    /// them advertised, a default route from that address via those (RFC 8028;
    /// the more specific source wins).
    static func tableRoutes(_ part: UplinkPart, table: UInt32) -> [KernelRoute] {
        var routes = part.onLinkPrefixes.map { KernelRoute(destination: $0, table: table, interfaceIndex: part.link.index, gateways: []) }
        if !part.routers.isEmpty {
            routes.append(KernelRoute(destination: anywhere, table: table, interfaceIndex: part.link.index, gateways: part.routers))
        }
        for (address, routers) in part.nextHops.sorted(by: { $0.key < $1.key }) where part.addresses.contains(address) && !routers.isEmpty {
            routes.append(
                KernelRoute(
                    destination: anywhere, table: table, interfaceIndex: part.link.index, gateways: routers,
                    source: IPv6Prefix(address: address, length: 128)))
        }
        return routes
    }

    /// The domain's policy rules: each address's traffic from the veth to its
    /// uplink's table, and anything else from the veth dropped.
    static func rules(addressesByUplink parts: [(index: Int, addresses: [IPv6Address])], naming: DomainNaming) -> [KernelRule] {
        let lookups = parts.flatMap { part in
            part.addresses.map {
                KernelRule(
                    priority: naming.rulePriority, source: IPv6Prefix(address: $0, length: 128),
                    inputInterface: naming.hostLink, action: .lookup(naming.table(uplink: part.index)))
            }
        }
        return lookups + [KernelRule(priority: naming.dropRulePriority, source: nil, inputInterface: naming.hostLink, action: .blackhole)]
    }

    /// A routed domain's addresses: which go (with their proxy entry and host
    /// route), which come, which host routes are missing, and which proxy
    /// entries are added or moved to another uplink.
    struct Addresses: Equatable {
        /// Addresses to remove, each with the uplink it is proxied on and
        /// whether it has a host route.
        var remove: [(address: IPv6Address, proxiedOn: KernelLink?, hostRoute: Bool)] = []
        var add: [IPv6Address] = []
        var hostRoutes: [IPv6Address] = []
        var proxies: [(address: IPv6Address, from: KernelLink?, to: KernelLink)] = []

        static func == (a: Addresses, b: Addresses) -> Bool {
            a.remove.map { "\($0.address) \($0.proxiedOn?.name ?? "-") \($0.hostRoute)" }
                == b.remove.map { "\($0.address) \($0.proxiedOn?.name ?? "-") \($0.hostRoute)" } && a.add == b.add
                && a.hostRoutes == b.hostRoutes
                && a.proxies.map { "\($0.address) \($0.from?.name ?? "-") \($0.to.name)" }
                    == b.proxies.map { "\($0.address) \($0.from?.name ?? "-") \($0.to.name)" }
        }
    }

    /// - Parameters:
    ///   - wanted: each address the domain is to have, and the uplink it is proxied on.
    ///   - present: the domain's global addresses now.
    ///   - hostRoutes: the addresses with a /128 route to the veth on the host.
    ///   - proxiedOn: where each present address is proxied now.
    static func addresses(
        wanted: [IPv6Address: KernelLink], present: Set<IPv6Address>, hostRoutes: Set<IPv6Address>,
        proxiedOn: [IPv6Address: KernelLink]
    ) -> Addresses {
        var plan = Addresses()
        for address in present.subtracting(wanted.keys).sorted() {
            plan.remove.append((address, proxiedOn[address], hostRoutes.contains(address)))
        }
        plan.add = Set(wanted.keys).subtracting(present).sorted()
        for (address, uplink) in wanted.sorted(by: { $0.key < $1.key }) {
            if !hostRoutes.contains(address) { plan.hostRoutes.append(address) }
            let current = proxiedOn[address]
            if current?.index != uplink.index { plan.proxies.append((address, current, uplink)) }
        }
        return plan
    }

    /// An uplink's sysctls for a routed domain: proxy NDP without delay,
    /// RAs still accepted (1 becomes 2), its own `forwarding` flag (the kernel
    /// answers a Neighbor Solicitation for a proxied address only then), and
    /// `force_forwarding` where forwarding is per interface.
    static func uplinkSettings(_ uplink: String, acceptRA: String, perInterfaceForwarding: Bool) -> [(String, String)] {
        var settings = [(Sysctl.ipv6(uplink, "proxy_ndp"), "1"), ("/proc/sys/net/ipv6/neigh/\(uplink)/proxy_delay", "0")]
        if acceptRA == "1" { settings.append((Sysctl.ipv6(uplink, "accept_ra"), "2")) }
        settings.append((Sysctl.ipv6(uplink, "forwarding"), "1"))
        if perInterfaceForwarding { settings.append((Sysctl.ipv6(uplink, "force_forwarding"), "1")) }
        return settings
    }

    /// Whether `name` is the host's own interface (or `default`): not `lo`,
    /// not a veth of pvd's, which goes with its domain.
    static func isHostInterface(_ name: String) -> Bool {
        name != "lo" && DomainNaming.slot(ofHostLink: name) == nil
    }

    /// The host-wide settings before the first routed domain: every
    /// interface (and `default`) whose `accept_ra` is 1 gets 2, so that
    /// turning forwarding on drops no learnt default route. pvd's veths and
    /// `lo` are left alone.
    static func hostSettings(acceptRA: [String: String]) -> [(String, String)] {
        acceptRA.sorted { $0.key < $1.key }
            .filter { isHostInterface($0.key) && $0.value == "1" }
            .map { (Sysctl.ipv6($0.key, "accept_ra"), "2") }
    }

    /// A domain namespace's `net.ipv4.ping_group_range`: the host's, or
    /// where the host's is closed ("1 0", the kernel's default, which a new
    /// namespace also gets) the range systemd opens on desktops. Outside,
    /// ping works with its file capability; inside a domain no_new_privs
    /// stops that, so ICMP echo sockets are how users ping there.
    static func pingGroupRange(host: String) -> String {
        let bounds = host.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).compactMap { UInt32($0) }
        guard bounds.count == 2, bounds[0] <= bounds[1] else { return "0 2147483647" }
        return "\(bounds[0]) \(bounds[1])"
    }

    /// Recorded sysctl values in the order to write them back: `all.forwarding`
    /// first, since writing it resets every interface's own `forwarding` flag,
    /// which the values after it then put back.
    static func restoreOrder(_ values: [String: String]) -> [(String, String)] {
        let all = Sysctl.ipv6("all", "forwarding")
        let first = values[all].map { [(all, $0)] } ?? []
        return first + values.filter { $0.key != all }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// The sysctl writes that change something, each with its old value.
    static func sysctlWrites(_ settings: [(String, String)], current: [String: String]) -> [(key: String, old: String, new: String)] {
        settings.compactMap { key, value in
            guard let old = current[key], old != value else { return nil }
            return (key, old, value)
        }
    }
}
