import CNetlinkRoute
import Glibc
import PvDCore
import PvDWire

extension NetlinkSocket {
    // MARK: Routes

    /// IPv6 unicast routes of every table.
    func routes() throws(SystemError) -> [KernelRoute] {
        try routeDump(table: nil)
    }

    /// IPv6 unicast routes of one table. The kernel filters the dump (strict
    /// checking with RTA_TABLE), so the cost does not grow with other tables.
    func routes(table: UInt32) throws(SystemError) -> [KernelRoute] {
        try routeDump(table: table).filter { $0.table == table }
    }

    /// Dumps IPv6 routes, each message parsed on its own: libnl's route cache
    /// would merge routes that differ only in their source (`from`), which
    /// pvd's per-source default routes do.
    private func routeDump(table: UInt32?) throws(SystemError) -> [KernelRoute] {
        let object = table.map { "table \($0)" } ?? "every table"
        let fd = nl_socket_get_fd(socket)
        if table != nil {
            var strict: Int32 = 1
            setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &strict, 4)
        }
        defer {
            var strict: Int32 = 0
            setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &strict, 4)
        }
        let request = nlmsg_alloc_simple(Int32(RTM_GETROUTE), NLM_F_DUMP)!
        defer { nlmsg_free(request) }
        var header = rtmsg()
        header.rtm_family = UInt8(AF_INET6)
        try check(nlmsg_append(request, &header, MemoryLayout<rtmsg>.size, Int32(NLMSG_ALIGNTO)), "list routes", object)
        if let table { try check(nla_put_u32(request, Int32(RTA_TABLE.rawValue), table), "list routes", object) }
        let collector = RouteCollector()
        guard let callbacks = nl_cb_alloc(NL_CB_DEFAULT) else {
            throw SystemError(step: "list routes", object: object, reason: "out of memory")
        }
        defer { nl_cb_put(callbacks) }
        nl_cb_set(callbacks, NL_CB_VALID, NL_CB_CUSTOM, routeMessageReceived, Unmanaged.passUnretained(collector).toOpaque())
        try check(nl_send_auto(socket, request), "list routes", object)
        let received = nl_recvmsgs(socket, callbacks)
        // A table that does not exist yet is an empty table.
        if received != -NLE_OBJ_NOTFOUND { try check(received, "list routes", object) }
        return collector.routes
    }

    /// The routes in a buffer of route messages as the kernel sends them in
    /// a dump, each parsed alone as ``routes(table:)`` parses them: for
    /// replaying recorded dumps in unit tests.
    static func routes(inMessages bytes: [UInt8]) -> [KernelRoute] {
        let collector = RouteCollector()
        var offset = 0
        while offset + MemoryLayout<nlmsghdr>.size <= bytes.count {
            let length = bytes[offset..<offset + 4].withUnsafeBytes { Int($0.loadUnaligned(as: UInt32.self)) }
            guard length >= MemoryLayout<nlmsghdr>.size, offset + length <= bytes.count else { break }
            var copy = Array(bytes[offset..<offset + length])
            if let message = copy.withUnsafeMutableBytes({ nlmsg_convert($0.baseAddress!.assumingMemoryBound(to: nlmsghdr.self)) }) {
                nlmsg_set_proto(message, NETLINK_ROUTE)
                _ = routeMessageReceived(message, Unmanaged.passUnretained(collector).toOpaque())
                nlmsg_free(message)
            }
            offset += (length + 3) & ~3
        }
        return collector.routes
    }

    fileprivate static func kernelRoute(_ route: OpaquePointer) -> KernelRoute? {
        guard rtnl_route_get_type(route) == UInt8(RTN_UNICAST), let destination = rtnl_route_get_dst(route) else { return nil }
        // The default route carries no RTA_DST: libnl gives an empty address.
        let prefix =
            nl_addr_get_len(destination) == 0
            ? IPv6Prefix(address: .unspecified, length: 0)
            : ipv6(destination).flatMap { IPv6Prefix(address: $0.0, length: $0.1) }
        guard let prefix else { return nil }
        var gateways: [IPv6Address] = []
        var index: Int32 = 0
        for hop in 0..<rtnl_route_get_nnexthops(route) {
            let nexthop = rtnl_route_nexthop_n(route, hop)
            index = rtnl_route_nh_get_ifindex(nexthop)
            if let (gateway, _) = ipv6(rtnl_route_nh_get_gateway(nexthop)) { gateways.append(gateway) }
        }
        // libnl may give an empty or a ::/0 source for a route without RTA_SRC.
        let source = rtnl_route_get_src(route).flatMap { nl_addr_get_len($0) == 0 ? nil : ipv6($0) }
            .flatMap { $0.1 == 0 ? nil : IPv6Prefix(address: $0.0, length: $0.1) }
        return KernelRoute(
            destination: prefix, table: rtnl_route_get_table(route), interfaceIndex: index, gateways: gateways,
            source: source, origin: rtnl_route_get_protocol(route))
    }

    /// The libnl route for `entry`. Routes pvd adds are `proto static`; a delete
    /// says RTPROT_UNSPEC (libnl would send static), because the kernel only
    /// deletes a route of the protocol named, and leftovers may be of any.
    private func routeObject(_ entry: KernelRoute, adding: Bool) -> OpaquePointer {
        let route = rtnl_route_alloc()!
        rtnl_route_set_family(route, UInt8(AF_INET6))
        rtnl_route_set_table(route, entry.table)
        rtnl_route_set_protocol(route, UInt8(adding ? RTPROT_STATIC : RTPROT_UNSPEC))
        let destination = NetlinkSocket.address(entry.destination.address, prefixLength: entry.destination.length)
        rtnl_route_set_dst(route, destination)
        nl_addr_put(destination)
        if let source = entry.source {
            let address = NetlinkSocket.address(source.address, prefixLength: source.length)
            rtnl_route_set_src(route, address)
            nl_addr_put(address)
        }
        for gateway in entry.gateways.isEmpty ? [nil] : entry.gateways.map(Optional.some) {
            let nexthop = rtnl_route_nh_alloc()!
            rtnl_route_nh_set_ifindex(nexthop, entry.interfaceIndex)
            if let gateway {
                let address = NetlinkSocket.address(gateway)
                rtnl_route_nh_set_gateway(nexthop, address)
                nl_addr_put(address)
            }
            rtnl_route_add_nexthop(route, nexthop)
        }
        return route
    }

    private func describe(_ route: KernelRoute, _ linkName: String) -> String {
        let via = route.gateways.isEmpty ? "" : " via \(route.gateways.map(\.description).joined(separator: ","))"
        let from = route.source.map { " from \($0)" } ?? ""
        return "\(route.destination)\(from)\(via) dev \(linkName) table \(route.table)"
    }

    func addRoute(_ entry: KernelRoute, linkName: String) throws(SystemError) {
        let route = routeObject(entry, adding: true)
        defer { rtnl_route_put(route) }
        try change("add route", describe(entry, linkName)) { rtnl_route_build_add_request(route, NLM_F_CREATE | NLM_F_EXCL, &$0) }
    }

    func deleteRoute(_ entry: KernelRoute, linkName: String) throws(SystemError) {
        let route = routeObject(entry, adding: false)
        defer { rtnl_route_put(route) }
        try change("delete route", describe(entry, linkName)) { rtnl_route_build_del_request(route, 0, &$0) }
    }

    // MARK: Rules

    func rules() throws(SystemError) -> [KernelRule] {
        var rules: [KernelRule] = []
        try dump("list rules", { rtnl_rule_alloc_cache(socket, AF_INET6, &$0) }) { rule in
            let action: KernelRule.Action
            switch Int(rtnl_rule_get_action(rule)) {
            case Int(FR_ACT_TO_TBL): action = .lookup(rtnl_rule_get_table(rule))
            case Int(FR_ACT_BLACKHOLE): action = .blackhole
            default: return
            }
            let source = NetlinkSocket.ipv6(rtnl_rule_get_src(rule)).flatMap { IPv6Prefix(address: $0.0, length: $0.1) }
            let iif = rtnl_rule_get_iif(rule).map { String(cString: $0) }
            rules.append(KernelRule(priority: rtnl_rule_get_prio(rule), source: source, inputInterface: iif, action: action))
        }
        return rules
    }

    private func ruleObject(_ entry: KernelRule) -> OpaquePointer {
        let rule = rtnl_rule_alloc()!
        rtnl_rule_set_family(rule, AF_INET6)
        rtnl_rule_set_prio(rule, entry.priority)
        if let source = entry.source {
            let address = NetlinkSocket.address(source.address, prefixLength: source.length)
            rtnl_rule_set_src(rule, address)
            nl_addr_put(address)
        }
        if let iif = entry.inputInterface { rtnl_rule_set_iif(rule, iif) }
        switch entry.action {
        case .lookup(let table):
            rtnl_rule_set_action(rule, UInt8(FR_ACT_TO_TBL))
            rtnl_rule_set_table(rule, table)
        case .blackhole:
            rtnl_rule_set_action(rule, UInt8(FR_ACT_BLACKHOLE))
        }
        return rule
    }

    private func describe(_ rule: KernelRule) -> String {
        var text = "priority \(rule.priority)"
        if let source = rule.source { text += " from \(source)" }
        if let iif = rule.inputInterface { text += " iif \(iif)" }
        switch rule.action {
        case .lookup(let table): text += " lookup \(table)"
        case .blackhole: text += " blackhole"
        }
        return text
    }

    func addRule(_ entry: KernelRule) throws(SystemError) {
        let rule = ruleObject(entry)
        defer { rtnl_rule_put(rule) }
        try change("add rule", describe(entry)) { rtnl_rule_build_add_request(rule, NLM_F_CREATE | NLM_F_EXCL, &$0) }
    }

    func deleteRule(_ entry: KernelRule) throws(SystemError) {
        let rule = ruleObject(entry)
        defer { rtnl_rule_put(rule) }
        try change("delete rule", describe(entry)) { rtnl_rule_build_delete_request(rule, 0, &$0) }
    }

    // MARK: Neighbors

    /// A permanent neighbor entry: `address` is at `linkLayerAddress` on the
    /// link, without a Neighbor Solicitation ever asked (made anew if there is one).
    func setNeighbor(_ address: IPv6Address, at linkLayerAddress: [UInt8], interfaceIndex: Int32, linkName: String) throws(SystemError) {
        let neighbour = rtnl_neigh_alloc()!
        defer { rtnl_neigh_put(neighbour) }
        rtnl_neigh_set_family(neighbour, AF_INET6)
        rtnl_neigh_set_ifindex(neighbour, interfaceIndex)
        let destination = NetlinkSocket.address(address)
        rtnl_neigh_set_dst(neighbour, destination)
        nl_addr_put(destination)
        let lower = linkLayerAddress.withUnsafeBytes { nl_addr_build(AF_LLC, $0.baseAddress, $0.count) }
        rtnl_neigh_set_lladdr(neighbour, lower)
        nl_addr_put(lower)
        rtnl_neigh_set_state(neighbour, Int32(NUD_PERMANENT))
        try change("set neighbor", "\(address) on \(linkName)") {
            rtnl_neigh_build_add_request(neighbour, NLM_F_CREATE | NLM_F_REPLACE, &$0)
        }
    }

    // MARK: Proxy NDP

    private func proxyObject(_ address: IPv6Address, interfaceIndex: Int32) -> OpaquePointer {
        let neighbour = rtnl_neigh_alloc()!
        rtnl_neigh_set_family(neighbour, AF_INET6)
        rtnl_neigh_set_ifindex(neighbour, interfaceIndex)
        let destination = NetlinkSocket.address(address)
        rtnl_neigh_set_dst(neighbour, destination)
        nl_addr_put(destination)
        rtnl_neigh_set_flags(neighbour, UInt32(NTF_PROXY))
        rtnl_neigh_set_state(neighbour, Int32(NUD_PERMANENT))
        return neighbour
    }

    /// A proxy NDP entry: the kernel answers Neighbor Solicitations for
    /// `address` on the link (with proxy_ndp=1 there).
    func addProxy(_ address: IPv6Address, interfaceIndex: Int32, linkName: String) throws(SystemError) {
        let neighbour = proxyObject(address, interfaceIndex: interfaceIndex)
        defer { rtnl_neigh_put(neighbour) }
        try change("add proxy NDP entry", "\(address) on \(linkName)") {
            rtnl_neigh_build_add_request(neighbour, NLM_F_CREATE | NLM_F_EXCL, &$0)
        }
    }

    /// Every IPv6 proxy NDP entry, as (address, interface index). A dump
    /// asks for proxies with NTF_PROXY in its header (libnl's cache cannot).
    func proxies() throws(SystemError) -> [(address: IPv6Address, interfaceIndex: Int32)] {
        let request = nlmsg_alloc_simple(Int32(RTM_GETNEIGH), NLM_F_DUMP)!
        defer { nlmsg_free(request) }
        var header = ndmsg()
        header.ndm_family = UInt8(AF_INET6)
        header.ndm_flags = UInt8(NTF_PROXY)
        try check(nlmsg_append(request, &header, MemoryLayout<ndmsg>.size, Int32(NLMSG_ALIGNTO)), "list proxy NDP entries", "all")
        var entries: [(address: IPv6Address, interfaceIndex: Int32)] = []
        try dump(
            "list proxy NDP entries",
            { cache in
                let allocated = nl_cache_alloc_name("route/neigh", &cache)
                guard allocated >= 0 else { return allocated }
                let sent = nl_send_auto(socket, request)
                guard sent >= 0 else { return sent }
                return nl_cache_pickup(socket, cache)
            }
        ) { neighbour in
            guard rtnl_neigh_get_flags(neighbour) & UInt32(NTF_PROXY) != 0,
                let (address, _) = NetlinkSocket.ipv6(rtnl_neigh_get_dst(neighbour))
            else { return }
            entries.append((address, rtnl_neigh_get_ifindex(neighbour)))
        }
        return entries
    }

    func deleteProxy(_ address: IPv6Address, interfaceIndex: Int32, linkName: String) throws(SystemError) {
        let neighbour = proxyObject(address, interfaceIndex: interfaceIndex)
        defer { rtnl_neigh_put(neighbour) }
        try change("delete proxy NDP entry", "\(address) on \(linkName)") { rtnl_neigh_build_delete_request(neighbour, 0, &$0) }
    }
}

/// The routes of one dump, filled by ``routeMessageReceived``.
private final class RouteCollector {
    var routes: [KernelRoute] = []
}

/// libnl's callback for each message of a route dump: parses it alone.
private func routeMessageReceived(_ message: OpaquePointer?, _ context: UnsafeMutableRawPointer?) -> Int32 {
    guard let message, let context else { return Int32(NL_OK.rawValue) }
    nl_msg_parse(
        message,
        { object, context in
            guard let object, let context else { return }
            let collector = Unmanaged<RouteCollector>.fromOpaque(context).takeUnretainedValue()
            if let route = NetlinkSocket.kernelRoute(object) { collector.routes.append(route) }
        }, context)
    return Int32(NL_OK.rawValue)
}
