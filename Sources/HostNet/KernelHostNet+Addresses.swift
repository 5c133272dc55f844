import CNetlinkRoute
import Glibc
import LinuxSystem
import PvDCore
import PvDWire

/// A domain's addresses, proxy entries, routes, tables and rules, and its sysctls.
extension KernelHostNet {
    func applyAddresses(
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

        var wantedUplink: [IPv6Address: KernelLink] = [:]
        for part in parts { for address in part.addresses { wantedUplink[address] = part.link } }
        let present = Set(insideAddresses.filter { !$0.address.isLinkLocal }.map(\.address))
        let hostRoutes =
            fresh
            ? []
            : try host.routes(table: DomainPlan.mainTable).filter {
                $0.interfaceIndex == hostLink.index && $0.destination.length == 128
            }
        var proxiedOn: [IPv6Address: KernelLink] = [:]
        for proxy in fresh ? [] : try host.proxies() where present.contains(proxy.address) {
            proxiedOn[proxy.address] = try host.link(index: proxy.interfaceIndex)
        }
        let plan = DomainPlan.addresses(
            wanted: wantedUplink, present: present, hostRoutes: Set(hostRoutes.map(\.destination.address)), proxiedOn: proxiedOn)

        for (address, uplink, hostRoute) in plan.remove {
            try removeDomainAddress(address, naming: naming, inside: inside, hostLink: hostLink, proxiedOn: uplink, hostRoute: hostRoute, transaction)
        }
        for part in parts {
            try checkNewAddresses(plan.add.filter(part.addresses.contains))
        }
        for address in plan.add {
            try addAddress(
                KernelAddress(interfaceIndex: domainLink.index, address: address, prefixLength: 128),
                on: DomainNaming.domainLink, socket: inside, transaction)
        }
        for address in plan.hostRoutes {
            let route = KernelRoute(
                destination: IPv6Prefix(address: address, length: 128)!, table: DomainPlan.mainTable, interfaceIndex: hostLink.index, gateways: [])
            try addRoute(route, linkName: hostLink.name, socket: host, transaction)
        }
        for (address, current, uplink) in plan.proxies {
            if let current { try deleteProxy(address, on: current, transaction) }
            try transaction.step(
                "add proxy NDP entry", "\(address) on \(uplink.name)",
                { () throws(SystemError) in
                    try host.addProxy(address, interfaceIndex: uplink.index, linkName: uplink.name)
                }, undo: { () throws(SystemError) in try self.host.deleteProxy(address, interfaceIndex: uplink.index, linkName: uplink.name) })
        }
    }

    func deleteProxy(_ address: IPv6Address, on uplink: KernelLink, _ transaction: Transaction) throws(SystemError) {
        try transaction.step(
            "delete proxy NDP entry", "\(address) on \(uplink.name)",
            { () throws(SystemError) in
                try host.deleteProxy(address, interfaceIndex: uplink.index, linkName: uplink.name)
            }, undo: { () throws(SystemError) in try self.host.addProxy(address, interfaceIndex: uplink.index, linkName: uplink.name) })
    }

    func removeDomainAddress(
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

    func addRoute(
        _ route: KernelRoute, linkName: String, socket: NetlinkSocket,
        _ transaction: Transaction
    ) throws(SystemError) {
        try transaction.step(
            "add route", "\(route.destination) table \(route.table) in \(socket.namespace)",
            { () throws(SystemError) in
                try socket.addRoute(route, linkName: linkName)
            }, undo: { () throws(SystemError) in try socket.deleteRoute(route, linkName: linkName) })
    }

    func deleteRoute(
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
        let changes = DomainPlan.routeChanges(wanted: wanted, present: present)
        for extra in changes.delete { try deleteRoute(extra, linkName: linkName, socket: socket, transaction) }
        for missing in changes.add { try addRoute(missing, linkName: linkName, socket: socket, transaction) }
    }

    func applyInsideRoutes(
        _ spec: DomainSpec, inside: NetlinkSocket, domainLink: KernelLink,
        _ transaction: Transaction
    ) throws(SystemError) {
        let present = try inside.routes(table: DomainPlan.mainTable).filter {
            $0.interfaceIndex == domainLink.index && $0.gateways == [DomainNaming.hostLinkLocal]
        }
        try reconcile(
            routes: DomainPlan.insideRoutes(spec, domainLink: domainLink.index), present: present, linkName: DomainNaming.domainLink,
            socket: inside, transaction)
    }

    /// One routing table per uplink (``DomainPlan/tableRoutes(_:table:)``);
    /// tables of uplinks no longer used are emptied.
    func applyTables(_ parts: [UplinkPart], naming: DomainNaming, fresh: Bool, _ transaction: Transaction) throws(SystemError) {
        for index in 0..<DomainNaming.maximumUplinks {
            let table = naming.table(uplink: index)
            let wanted = index < parts.count ? DomainPlan.tableRoutes(parts[index], table: table) : []
            let present = fresh ? [] : try host.routes(table: table)
            let linkName = index < parts.count ? parts[index].link.name : "table \(table)"
            try reconcile(routes: wanted, present: present, linkName: linkName, socket: host, transaction)
        }
    }

    func applyRules(_ parts: [UplinkPart], naming: DomainNaming, fresh: Bool, _ transaction: Transaction) throws(SystemError) {
        let wanted = DomainPlan.rules(addressesByUplink: parts.map { ($0.index, $0.addresses) }, naming: naming)
        let present = fresh ? [] : try host.rules().filter { $0.priority == naming.rulePriority || $0.priority == naming.dropRulePriority }
        let changes = DomainPlan.ruleChanges(wanted: wanted, present: present)
        for extra in changes.delete {
            try transaction.step(
                "delete rule", "\(extra)", { () throws(SystemError) in try host.deleteRule(extra) },
                undo: { () throws(SystemError) in try self.host.addRule(extra) })
        }
        for missing in changes.add {
            try transaction.step(
                "add rule", "priority \(missing.priority) iif \(naming.hostLink)", { () throws(SystemError) in try host.addRule(missing) },
                undo: { () throws(SystemError) in try self.host.deleteRule(missing) })
        }
    }

    /// Sets sysctls of an uplink (or the host), keeping each one's original
    /// value in `record` (the first change's) along with `unwritten` (values
    /// to put back that this does not write), and records `domain` as a
    /// user. Where turning an IPv6 forwarding flag on made the kernel drop
    /// learnt default routes, their routers are solicited.
    func set(
        _ settings: [(String, String)], recordedIn record: UplinkRecord, user domain: String,
        alsoRecording unwritten: [String: String] = [:], _ transaction: Transaction
    ) throws(SystemError) {
        let savedBefore = record.originals()
        var saved = savedBefore.merging(unwritten) { recorded, _ in recorded }
        var learntRoutes: Set<Int32>?
        var current: [String: String] = [:]
        for (key, _) in settings { current[key] = try Sysctl.read(key) }
        for (key, old, value) in DomainPlan.sysctlWrites(settings, current: current) {
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
}
