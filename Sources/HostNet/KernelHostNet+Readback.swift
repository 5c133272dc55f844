import CNetlinkRoute
import Glibc
import LinuxSystem
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

    public func domains() throws(SystemError) -> [DomainSpec] {
        try observe().map(\.spec)
    }

    /// Every domain of this host namespace whose namespace exists, with what
    /// pvd made for it.
    func observe() throws(SystemError) -> [Observed] {
        var found: [Observed] = []
        for name in try DomainRegistry().names() where (try? DomainNaming.validate(name)) != nil {
            if Namespaces.exists(DomainNaming.namespace(ofDomain: name)) { found.append(try observe(name: name)) }
        }
        return found
    }

    /// One domain's namespace and what pvd made for it, asking the kernel for
    /// that domain's objects only.
    func observe(name: String) throws(SystemError) -> Observed {
        let namespace = DomainNaming.namespace(ofDomain: name)
        let inside = try NetlinkSocket.inside(namespace)
        let domainLink = try inside.link(named: DomainNaming.domainLink)
        // Only a pvhXXXX link is a domain's host side: anything else (an uplink
        // a macvlan hangs off) must never be taken for one and deleted.
        let hostLink = try domainLink.flatMap { link throws(SystemError) in try host.link(index: link.peerIndex) }
            .flatMap { DomainNaming.slot(ofHostLink: $0.name) == nil ? nil : $0 }
        let slot = hostLink.flatMap { DomainNaming.slot(ofHostLink: $0.name) }
        let naming: DomainNaming
        do { naming = try slot.map { try DomainNaming(name: name, slot: $0) } ?? DomainNaming(name: name) } catch {
            throw SystemError(step: "read domain", object: namespace, reason: "\(error)")
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
                if let source = route.source {
                    spec.nextHops[source.address] = route.gateways.sorted()
                } else if route.gateways.isEmpty {
                    spec.onLinkPrefixes.append(route.destination)
                } else if route.destination.length == 0 {
                    spec.routers = route.gateways.sorted()
                } else {
                    spec.routes.append(route.destination)
                }
            }
        }
        if let registered = try DomainRegistry().uplink(of: name) { spec.uplink = registered }
        if spec.attachment == .routed, let hostLink {
            try readUplinks(into: &spec, naming: naming, hostLink: hostLink.name)
        }
        if let text = HostFiles.read(Paths.files(ofNamespace: namespace) + "/resolv.conf") {
            for line in text.split(separator: "\n") {
                let words = line.split(separator: " ")
                if words.first == "nameserver", words.count == 2, let server = IPv6Address(words[1]) { spec.dnsServers.append(server) }
                if words.first == "search" { spec.searchDomains = words.dropFirst().compactMap { try? PvDWire.DomainName($0) } }
            }
        }
        return Observed(naming: naming, spec: spec, hostLinkName: hostLink?.name)
    }

    /// A routed domain's uplinks: which table each address's rule looks up,
    /// and what each table holds, numbered as apply numbered them.
    private func readUplinks(into spec: inout DomainSpec, naming: DomainNaming, hostLink: String) throws(SystemError) {
        var addressesByUplink = [[IPv6Address]](repeating: [], count: DomainNaming.maximumUplinks)
        for rule in try host.rules() where rule.priority == naming.rulePriority && rule.inputInterface == hostLink {
            guard case .lookup(let table) = rule.action, let source = rule.source, spec.addresses.contains(source.address),
                table >= naming.table, (table - naming.table) % UInt32(DomainNaming.slotCount) == 0
            else { continue }
            let index = Int((table - naming.table) / UInt32(DomainNaming.slotCount))
            if index < DomainNaming.maximumUplinks { addressesByUplink[index].append(source.address) }
        }
        let primaryAddresses = Set(spec.addresses).subtracting(addressesByUplink.dropFirst().joined())
        spec.addresses = spec.addresses.filter(primaryAddresses.contains)
        for index in 0..<DomainNaming.maximumUplinks {
            var part = UplinkSpec(uplink: "", addresses: addressesByUplink[index].sorted(), routers: [])
            var uplinkIndex: Int32?
            for route in try host.routes(table: naming.table(uplink: index)) {
                uplinkIndex = route.interfaceIndex
                if let source = route.source {
                    part.nextHops[source.address] = route.gateways.sorted()
                } else if route.destination.length == 0 {
                    part.routers = route.gateways.sorted()
                } else {
                    part.onLinkPrefixes.append(route.destination)
                }
            }
            if index == 0 {
                spec.routers = part.routers
                spec.onLinkPrefixes = part.onLinkPrefixes
                spec.nextHops = part.nextHops
                if spec.uplink.isEmpty, let uplinkIndex, let uplink = try host.link(index: uplinkIndex) { spec.uplink = uplink.name }
                continue
            }
            if uplinkIndex == nil, let address = part.addresses.first {
                uplinkIndex = try host.proxies().first { $0.address == address }?.interfaceIndex
            }
            guard let uplinkIndex, let uplink = try host.link(index: uplinkIndex) else { continue }
            part.uplink = uplink.name
            spec.otherUplinks.append(part)
        }
    }

    // MARK: Remove

    /// Whether a program still runs inside the domain's namespace.
    public func hasProcesses(inDomain name: String) -> Bool {
        Namespaces.hasProcesses(DomainNaming.namespace(ofDomain: name))
    }

    /// The device group host veths join just before they are deleted together.
    static let dyingGroup: UInt32 = 0x7064_DEAD

    public func remove(_ names: [String]) throws(SystemError) {
        // A socket inside a namespace keeps it alive: these go first.
        for name in names { tunnelSockets[name] = nil }
        willRemove?(names)
        var firstError: SystemError?
        func attempt(_ work: () throws(SystemError) -> Void) {
            do { try work() } catch { firstError = firstError ?? error }
        }
        var removing: [Observed] = []
        for name in names {
            attempt { () throws(SystemError) in
                let naming: DomainNaming
                do { naming = try DomainNaming(name: name) } catch {
                    throw SystemError(step: "check domain name", object: name, reason: "\(error)")
                }
                if Namespaces.exists(naming.namespace) {
                    removing.append(try observe(name: name))
                } else {
                    // No namespace: still clear what an interrupted apply may have left.
                    try KernelHostNet.removeNetnsFiles(naming.namespace)
                }
            }
        }
        for observed in removing { detach(observed, attempt) }
        attempt { () throws(SystemError) in try deletePorts(of: removing) }
        // The veths go explicitly (not with their namespaces), so a domain whose
        // namespace a process still holds is cut off at once.
        attempt { () throws(SystemError) in try host.deleteLinkGroup(KernelHostNet.dyingGroup) }
        for observed in removing {
            attempt { () throws(SystemError) in try Namespaces.delete(observed.naming.namespace) }
            attempt { () throws(SystemError) in try KernelHostNet.removeNetnsFiles(observed.naming.namespace) }
        }
        let registry = try DomainRegistry()
        for name in names where registry.contains(name) {
            attempt { () throws(SystemError) in try registry.remove(name) }
        }
        var users: [String: Set<String>] = [:]
        var ipv4Users: [String: Set<String>] = [:]
        for observed in removing where !observed.spec.uplink.isEmpty && observed.spec.attachment == .routed {
            let spec = observed.spec
            for uplink in [spec.uplink] + spec.otherUplinks.map(\.uplink) { users[uplink, default: []].insert(spec.name) }
            if spec.ipv4 { ipv4Users[spec.uplink, default: []].insert(spec.name) }
        }
        let uplinksBefore = (try? UplinkRecord.uplinksInUse()) ?? []
        for (uplink, domains) in users.sorted(by: { $0.key < $1.key }) {
            attempt { () throws(SystemError) in try KernelHostNet.releaseUplink(uplink, domains: domains) }
        }
        if !users.isEmpty {
            attempt { () throws(SystemError) in
                try KernelHostNet.releaseHost(
                    domains: Set(users.values.joined()),
                    uplinksFreed: try UplinkRecord.uplinksInUse() != uplinksBefore)
            }
        }
        for (uplink, domains) in ipv4Users.sorted(by: { $0.key < $1.key }) {
            attempt { () throws(SystemError) in try KernelHostNet.releaseUplink(uplink, domains: domains, root: UplinkRecord.ipv4Root) }
        }
        if let firstError { throw firstError }
    }

    /// Takes one domain off the host side: its rules, its routing table, its
    /// proxy entries; marks its veth for the group deletion.
    private func detach(_ observed: Observed, _ attempt: (() throws(SystemError) -> Void) -> Void) {
        let naming = observed.naming
        if let hostLink = observed.hostLinkName {
            // The rules apply made, rebuilt rather than searched for.
            let parts = [(0, observed.spec.addresses)] + observed.spec.otherUplinks.enumerated().map { ($0.offset + 1, $0.element.addresses) }
            for rule in DomainPlan.rules(addressesByUplink: parts.map { (index: $0.0, addresses: $0.1) }, naming: naming) {
                attempt { () throws(SystemError) in try host.deleteRule(rule) }
            }
            attempt { () throws(SystemError) in try host.setLinkGroup(hostLink, KernelHostNet.dyingGroup) }
            if observed.spec.ipv4 {
                attempt { () throws(SystemError) in try KernelHostNet.deleteFirewall(KernelHostNet.firewallTable(naming)) }
            }
        }
        for index in 0..<DomainNaming.maximumUplinks {
            attempt { () throws(SystemError) in
                for route in try host.routes(table: naming.table(uplink: index)) {
                    try host.deleteRoute(route, linkName: "table \(route.table)")
                }
            }
        }
        switch observed.spec.attachment {
        case .routed:
            let parts = [(observed.spec.uplink, observed.spec.addresses)] + observed.spec.otherUplinks.map { ($0.uplink, $0.addresses) }
            for (uplinkName, addresses) in parts {
                attempt { () throws(SystemError) in
                    if let uplink = try host.link(named: uplinkName) {
                        for address in addresses {
                            try host.deleteProxy(address, interfaceIndex: uplink.index, linkName: uplink.name)
                        }
                    }
                }
            }
        case .macvlan:
            // Cut the domain off the link now, even if a process keeps its namespace alive.
            attempt { () throws(SystemError) in
                let namespace = naming.namespace
                let inside = try NetlinkSocket.inside(namespace)
                try inside.deleteLink(DomainNaming.domainLink)
            }
        }
    }

    /// Forgets that `domains` use `uplink`; after the last domain, puts back
    /// the uplink sysctls HostNet changed.
    static func releaseUplink(_ uplink: String, domains: Set<String>, root: String = UplinkRecord.root) throws(SystemError) {
        let record = try UplinkRecord(uplink, root: root)
        for domain in domains.sorted() { try record.removeUser(domain) }
        guard !record.hasUsers() else { return }
        try writeSysctls(record.originals())
        try record.delete()
    }

    // MARK: Leftovers

    public func removeLeftovers(keeping: Set<String>) throws(SystemError) -> [String] {
        let observed = try observe()
        // Registered names whose namespace is gone are remnants of an interrupted apply.
        let removed = try DomainRegistry().names().filter { !keeping.contains($0) }
        try remove(removed)
        // Files of pvd's namespaces that are gone: a reboot empties /run/netns, not /etc/netns.
        for entry in HostFiles.entries(of: Paths.namespaceFiles)
        where entry.hasPrefix(DomainNaming.namespacePrefix) && access(Paths.namespace(entry), F_OK) != 0 {
            try KernelHostNet.removeNetnsFiles(entry)
        }
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
        for table in try Nftables.tables(family: "ip") where table.hasPrefix("pvd_") && isStray(String(table.dropFirst(4))) {
            try KernelHostNet.deleteFirewall(table)
        }
        let portsPrefix = KernelHostNet.portsTablePrefix
        for table in try Nftables.tables(family: "inet") where table.hasPrefix(portsPrefix) && isStray(String(table.dropFirst(portsPrefix.count))) {
            try KernelHostNet.deletePorts(table)
        }
        // Tables in pvd's range (0x7064_0000 to 0x7064_FFFF) whose slot is not live.
        let tableRange = DomainNaming.tableBase..<DomainNaming.tableBase + UInt32(DomainNaming.slotCount * DomainNaming.maximumUplinks)
        for route in try host.routes()
        where tableRange.contains(route.table)
            && !liveSlots.contains(UInt16((route.table - DomainNaming.tableBase) % UInt32(DomainNaming.slotCount)))
        {
            try host.deleteRoute(route, linkName: "table \(route.table)")
        }
        return removed
    }
}
