import CNetlinkRoute
import Glibc
import PvDCore
import PvDWire

extension KernelHostNet {
    /// What one pvd namespace holds, read back from the kernel.
    struct Observed {
        var naming: DomainNaming
        var spec: DomainSpec
        var hostLinkName: String?
    }

    // MARK: Read back

    public func domains() throws(HostNetError) -> [DomainSpec] {
        try observe().map(\.spec)
    }

    /// Every domain of this host namespace whose namespace exists, with what
    /// pvd made for it.
    func observe() throws(HostNetError) -> [Observed] {
        var found: [Observed] = []
        for name in try DomainRegistry().names() where (try? DomainNaming.validate(name)) != nil {
            if Namespaces.exists(DomainNaming.namespacePrefix + name) { found.append(try observe(name: name)) }
        }
        return found
    }

    /// One domain's namespace and what pvd made for it, asking the kernel for
    /// that domain's objects only.
    func observe(name: String) throws(HostNetError) -> Observed {
        let namespace = DomainNaming.namespacePrefix + name
        let fd = try Namespaces.openDescriptor(namespace)
        defer { close(fd) }
        let inside = try Namespaces.run(in: fd, name: namespace) { () throws(HostNetError) in try NetlinkSocket(namespace: namespace) }
        let domainLink = try inside.link(named: DomainNaming.domainLink)
        // Only a pvhXXXX link is a domain's host side: anything else (an uplink
        // a macvlan hangs off) must never be taken for one and deleted.
        let hostLink = try domainLink.flatMap { link throws(HostNetError) in try host.link(index: link.peerIndex) }
            .flatMap { DomainNaming.slot(ofHostLink: $0.name) == nil ? nil : $0 }
        let slot = hostLink.flatMap { DomainNaming.slot(ofHostLink: $0.name) }
        let naming: DomainNaming
        do { naming = try slot.map { try DomainNaming(name: name, slot: $0) } ?? DomainNaming(name: name) } catch {
            throw HostNetError(step: "read domain", object: namespace, reason: "\(error)")
        }
        var spec = DomainSpec(name: name, uplink: "", addresses: [], routers: [])
        if let domainLink {
            spec.addresses = try inside.addresses()
                .filter { $0.interfaceIndex == domainLink.index && !$0.address.isLinkLocal && $0.prefixLength == 128 }
                .map(\.address).sorted()
            spec.routes = try inside.routes(table: UInt32(RT_TABLE_MAIN.rawValue))
                .filter { $0.interfaceIndex == domainLink.index && $0.gateways == [DomainNaming.hostLinkLocal] && $0.destination.length > 0 }
                .map(\.destination)
            spec.mtu = domainLink.mtu == 1500 ? nil : domainLink.mtu
            if hostLink != nil {
                let domainIPv4 = KernelHostNet.ipv4Link(slot: naming.slot).domain
                spec.ipv4 = try inside.ipv4Addresses().contains { $0.interfaceIndex == domainLink.index && $0.octets == domainIPv4 }
            }
        }
        if let domainLink, hostLink == nil, let parent = try host.link(index: domainLink.peerIndex) {
            // A macvlan: its parent is the uplink; its routes are on pvd0 itself.
            spec.attachment = .macvlan
            spec.uplink = parent.name
            spec.routes = []
            for route in try inside.routes(table: UInt32(RT_TABLE_MAIN.rawValue))
            where route.interfaceIndex == domainLink.index && route.origin == UInt8(RTPROT_STATIC) {
                if route.gateways.isEmpty {
                    spec.onLinkPrefixes.append(route.destination)
                } else if route.destination.length == 0 {
                    spec.routers = route.gateways.sorted()
                } else {
                    spec.routes.append(route.destination)
                }
            }
        }
        var uplinkIndex: Int32?
        for route in try host.routes(table: naming.table) where spec.attachment == .routed {
            uplinkIndex = route.interfaceIndex
            if route.destination.length == 0 { spec.routers = route.gateways.sorted() } else { spec.onLinkPrefixes.append(route.destination) }
        }
        if let uplinkIndex, let uplink = try host.link(index: uplinkIndex) { spec.uplink = uplink.name }
        if let registered = try DomainRegistry().uplink(of: name) { spec.uplink = registered }
        if let text = HostFiles.read("\(KernelHostNet.etcNetns)/\(namespace)/resolv.conf") {
            for line in text.split(separator: "\n") {
                let words = line.split(separator: " ")
                if words.first == "nameserver", words.count == 2, let server = IPv6Address(words[1]) { spec.dnsServers.append(server) }
                if words.first == "search" { spec.searchDomains = words.dropFirst().compactMap { try? PvDWire.DomainName($0) } }
            }
        }
        return Observed(naming: naming, spec: spec, hostLinkName: hostLink?.name)
    }

    // MARK: Remove

    /// Whether a program still runs inside the domain's namespace.
    public func hasProcesses(inDomain name: String) -> Bool {
        Namespaces.hasProcesses(DomainNaming.namespacePrefix + name)
    }

    /// The device group host veths join just before they are deleted together.
    static let dyingGroup: UInt32 = 0x7064_DEAD

    public func remove(_ names: [String]) throws(HostNetError) {
        var firstError: HostNetError?
        func attempt(_ work: () throws(HostNetError) -> Void) {
            do { try work() } catch { firstError = firstError ?? error }
        }
        var removing: [Observed] = []
        for name in names {
            attempt { () throws(HostNetError) in
                let naming: DomainNaming
                do { naming = try DomainNaming(name: name) } catch {
                    throw HostNetError(step: "check domain name", object: name, reason: "\(error)")
                }
                if Namespaces.exists(naming.namespace) {
                    removing.append(try observe(name: name))
                } else {
                    // No namespace: still clear what an interrupted apply may have left.
                    try removeResolvConf(naming.namespace)
                }
            }
        }
        for observed in removing { detach(observed, attempt) }
        // The veths go explicitly (not with their namespaces), so a domain whose
        // namespace a process still holds is cut off at once.
        attempt { () throws(HostNetError) in try host.deleteLinkGroup(KernelHostNet.dyingGroup) }
        for observed in removing {
            attempt { () throws(HostNetError) in try Namespaces.delete(observed.naming.namespace) }
            attempt { () throws(HostNetError) in try removeResolvConf(observed.naming.namespace) }
        }
        let registry = try DomainRegistry()
        for name in names where registry.contains(name) {
            attempt { () throws(HostNetError) in try registry.remove(name) }
        }
        let byUplink = Dictionary(grouping: removing.filter { !$0.spec.uplink.isEmpty && $0.spec.attachment == .routed },
                                  by: \.spec.uplink)
        for (uplink, domains) in byUplink.sorted(by: { $0.key < $1.key }) {
            attempt { () throws(HostNetError) in try KernelHostNet.releaseUplink(uplink, domains: Set(domains.map(\.spec.name))) }
            let withIPv4 = Set(domains.filter(\.spec.ipv4).map(\.spec.name))
            if !withIPv4.isEmpty {
                attempt { () throws(HostNetError) in
                    try KernelHostNet.releaseUplink(uplink, domains: withIPv4, root: UplinkRecord.ipv4Root)
                }
            }
        }
        if let firstError { throw firstError }
    }

    /// Takes one domain off the host side: its rules, its routing table, its
    /// proxy entries; marks its veth for the group deletion.
    private func detach(_ observed: Observed, _ attempt: (() throws(HostNetError) -> Void) -> Void) {
        let naming = observed.naming
        if let hostLink = observed.hostLinkName {
            // The rules apply made, rebuilt rather than searched for.
            var rules = observed.spec.addresses.map {
                KernelRule(priority: naming.rulePriority, source: IPv6Prefix(address: $0, length: 128),
                           inputInterface: hostLink, action: .lookup(naming.table))
            }
            rules.append(KernelRule(priority: naming.dropRulePriority, source: nil, inputInterface: hostLink, action: .blackhole))
            for rule in rules { attempt { () throws(HostNetError) in try host.deleteRule(rule) } }
            attempt { () throws(HostNetError) in try host.setLinkGroup(hostLink, KernelHostNet.dyingGroup) }
            if observed.spec.ipv4 {
                attempt { () throws(HostNetError) in try KernelHostNet.deleteFirewall(KernelHostNet.firewallTable(naming)) }
            }
        }
        attempt { () throws(HostNetError) in
            for route in try host.routes(table: naming.table) {
                try host.deleteRoute(route, linkName: observed.spec.uplink)
            }
        }
        switch observed.spec.attachment {
        case .routed:
            attempt { () throws(HostNetError) in
                if let uplink = try host.link(named: observed.spec.uplink) {
                    for address in observed.spec.addresses {
                        try host.deleteProxy(address, interfaceIndex: uplink.index, linkName: uplink.name)
                    }
                }
            }
        case .macvlan:
            // Cut the domain off the link now, even if a process keeps its namespace alive.
            attempt { () throws(HostNetError) in
                let namespace = naming.namespace
                let fd = try Namespaces.openDescriptor(namespace)
                defer { close(fd) }
                let inside = try Namespaces.run(in: fd, name: namespace) { () throws(HostNetError) in try NetlinkSocket(namespace: namespace) }
                try inside.deleteLink(DomainNaming.domainLink)
            }
        }
    }

    private func removeResolvConf(_ namespace: String) throws(HostNetError) {
        try HostFiles.remove(directory: "\(KernelHostNet.etcNetns)/\(namespace)", name: "resolv.conf")
    }

    /// Forgets that `domains` use `uplink`; after the last domain, puts back
    /// the uplink sysctls HostNet changed.
    static func releaseUplink(_ uplink: String, domains: Set<String>, root: String = UplinkRecord.root) throws(HostNetError) {
        let record = try UplinkRecord(uplink, root: root)
        for domain in domains.sorted() { try record.removeUser(domain) }
        guard !record.hasUsers() else { return }
        for (path, value) in record.originals().sorted(by: { $0.key < $1.key }) where Sysctl.exists(path) {
            try Sysctl.write(path, value)
        }
        try record.delete()
    }

    // MARK: Leftovers

    public func removeLeftovers(keeping: Set<String>) throws(HostNetError) -> [String] {
        let observed = try observe()
        // Registered names whose namespace is gone are remnants of an interrupted apply.
        let removed = try DomainRegistry().names().filter { !keeping.contains($0) }
        try remove(removed)
        // Objects of pvd's whose domain is gone: host links named pvhXXXX,
        // rules on such links, routing tables in pvd's range.
        let liveSlots = Set(observed.filter { keeping.contains($0.spec.name) }.map(\.naming.slot))
        func isStray(_ link: String?) -> Bool {
            guard let link, let slot = DomainNaming.slot(ofHostLink: link) else { return false }
            return !liveSlots.contains(slot)
        }
        for rule in try host.rules() where isStray(rule.inputInterface) {
            try host.deleteRule(rule)
        }
        for link in try host.links() where isStray(link.name) {
            try host.deleteLink(link.name)
        }
        for table in try Nftables.ipTables() where table.hasPrefix("pvd_") && isStray(String(table.dropFirst(4))) {
            try KernelHostNet.deleteFirewall(table)
        }
        for slot in 0..<UInt16(DomainNaming.slotCount) where !liveSlots.contains(slot) {
            for route in try host.routes(table: DomainNaming.tableBase + UInt32(slot)) {
                try host.deleteRoute(route, linkName: "table \(route.table)")
            }
        }
        return removed
    }
}
