import CNetlinkRoute
import Glibc
import LinuxSystem
import PvDCore
import PvDWire

/// An rtnetlink socket bound, for its whole life, to the network namespace
/// it was created in (create it on that namespace's thread; use it anywhere).
/// Every method maps libnl's result to a SystemError naming the step and object.
final class NetlinkSocket {
    let socket: OpaquePointer
    /// The namespace's name, for error messages ("host" for the daemon's own).
    let namespace: String
    /// Where address, route, rule and proxy changes go.
    let transport: any NetlinkTransport

    /// A socket connected to the kernel in the calling thread's namespace.
    init(namespace: String) throws(SystemError) {
        guard let socket = nl_socket_alloc() else {
            throw SystemError(step: "open netlink socket", object: namespace, reason: "out of memory")
        }
        let result = nl_connect(socket, NETLINK_ROUTE)
        guard result >= 0 else {
            nl_socket_free(socket)
            throw NetlinkSocket.error(result, "connect netlink socket", namespace)
        }
        self.socket = socket
        self.namespace = namespace
        transport = KernelNetlinkTransport(socket)
    }

    /// A socket whose changes go to `transport` (unit tests); it is not
    /// connected, so it cannot dump.
    init(namespace: String, transport: any NetlinkTransport) {
        socket = nl_socket_alloc()!
        self.namespace = namespace
        self.transport = transport
    }

    deinit { nl_socket_free(socket) }

    static func error(_ code: Int32, _ step: String, _ object: String) -> SystemError {
        SystemError(step: step, object: object, reason: String(cString: nl_geterror(code)), code: .netlink(-code))
    }

    func check(_ result: Int32, _ step: String, _ object: @autoclosure () -> String) throws(SystemError) {
        guard result >= 0 else { throw NetlinkSocket.error(result, step, "\(object()) in \(namespace)") }
    }

    /// Builds a request with one of libnl's `rtnl_*_build_*_request`
    /// functions and has the transport send it.
    func change(_ step: String, _ object: @autoclosure () -> String, build: (inout OpaquePointer?) -> Int32) throws(SystemError) {
        var message: OpaquePointer?
        try check(build(&message), step, object())
        guard let message else { throw NetlinkSocket.error(-NLE_NOMEM, step, object()) }
        try check(transport.exchange(message), step, object())
    }

    static func address(_ address: IPv6Address, prefixLength: Int = 128) -> OpaquePointer {
        NetlinkSocket.address(family: AF_INET6, address.octets, prefixLength: prefixLength)
    }

    static func address(family: Int32, _ octets: [UInt8], prefixLength: Int) -> OpaquePointer {
        var octets = octets
        let result = nl_addr_build(family, &octets, octets.count)!
        nl_addr_set_prefixlen(result, Int32(prefixLength))
        return result
    }

    static func ipv6(_ nlAddress: OpaquePointer?) -> (IPv6Address, Int)? {
        guard let nlAddress, nl_addr_get_family(nlAddress) == AF_INET6, nl_addr_get_len(nlAddress) == 16,
            let binary = nl_addr_get_binary_addr(nlAddress)
        else { return nil }
        let octets = Array(UnsafeRawBufferPointer(start: binary, count: 16))
        return (IPv6Address(octets: octets)!, Int(nl_addr_get_prefixlen(nlAddress)))
    }

    /// Walks a freshly dumped cache; `allocate` fills it.
    func dump(
        _ step: String, _ allocate: (inout OpaquePointer?) -> Int32,
        _ visit: (OpaquePointer) -> Void
    ) throws(SystemError) {
        var cache: OpaquePointer?
        try check(allocate(&cache), step, "all")
        defer { nl_cache_free(cache) }
        var object = nl_cache_get_first(cache)
        while let current = object {
            visit(current)
            object = nl_cache_get_next(current)
        }
    }

    /// A socket inside the named namespace (made on a thread that entered it).
    static func inside(_ namespace: String) throws(SystemError) -> NetlinkSocket {
        try Namespaces.run(inNamed: namespace) { () throws(SystemError) in try NetlinkSocket(namespace: namespace) }
    }

    // MARK: Links

    func links() throws(SystemError) -> [KernelLink] {
        var links: [KernelLink] = []
        try dump("list links", { rtnl_link_alloc_cache(socket, AF_UNSPEC, &$0) }) { link in
            links.append(NetlinkSocket.kernelLink(link))
        }
        return links
    }

    /// One link by name (or by index when `name` is nil), asked for alone so the
    /// cost does not grow with the number of links; nil when there is none.
    func link(named name: String? = nil, index: Int32 = 0) throws(SystemError) -> KernelLink? {
        var link: OpaquePointer?
        let result = rtnl_link_get_kernel(socket, index, name, &link)
        if result == -NLE_OBJ_NOTFOUND || result == -NLE_NODEV { return nil }
        try check(result, "find link", name ?? "index \(index)")
        defer { rtnl_link_put(link) }
        return NetlinkSocket.kernelLink(link!)
    }

    private static func kernelLink(_ link: OpaquePointer) -> KernelLink {
        KernelLink(
            index: rtnl_link_get_ifindex(link), name: String(cString: rtnl_link_get_name(link)),
            isUp: rtnl_link_get_flags(link) & UInt32(IFF_UP) != 0,
            mtu: rtnl_link_get_mtu(link), peerIndex: rtnl_link_get_link(link),
            bytesIn: rtnl_link_get_stat(link, RTNL_LINK_RX_BYTES), bytesOut: rtnl_link_get_stat(link, RTNL_LINK_TX_BYTES),
            isRunning: rtnl_link_get_flags(link) & UInt32(IFF_RUNNING) != 0, linkLayerAddress: linkLayerAddress(rtnl_link_get_addr(link)))
    }

    private static func linkLayerAddress(_ address: OpaquePointer?) -> [UInt8] {
        guard let address, let bytes = nl_addr_get_binary_addr(address) else { return [] }
        return Array(UnsafeRawBufferPointer(start: bytes, count: Int(nl_addr_get_len(address))))
    }

    /// A veth pair: `name` here, `peerName` in the namespace open at `peerNamespace`.
    func addVeth(_ name: String, peer peerName: String, peerNamespace: Int32) throws(SystemError) {
        let link = rtnl_link_veth_alloc()!
        defer { rtnl_link_put(link) }
        rtnl_link_set_name(link, name)
        let peer = rtnl_link_veth_get_peer(link)!
        rtnl_link_set_name(peer, peerName)
        rtnl_link_set_ns_fd(peer, peerNamespace)
        rtnl_link_put(peer)
        try check(rtnl_link_add(socket, link, NLM_F_CREATE | NLM_F_EXCL), "add veth", "\(name)/\(peerName)")
    }

    /// Puts a link into device group `group` (IFLA_GROUP).
    func setLinkGroup(_ name: String, _ group: UInt32) throws(SystemError) {
        var original: OpaquePointer?
        try check(rtnl_link_get_kernel(socket, 0, name, &original), "find link", name)
        defer { rtnl_link_put(original) }
        let changes = rtnl_link_alloc()!
        defer { rtnl_link_put(changes) }
        rtnl_link_set_group(changes, group)
        try check(rtnl_link_change(socket, original, changes, 0), "set link group", "\(name) group \(group)")
    }

    /// Deletes every link in device group `group` with one request, so the
    /// kernel unregisters them together (one RCU grace period, not one each).
    func deleteLinkGroup(_ group: UInt32) throws(SystemError) {
        let request = nlmsg_alloc_simple(Int32(RTM_DELLINK), NLM_F_ACK)!
        defer { nlmsg_free(request) }
        var header = ifinfomsg()
        header.ifi_family = UInt8(AF_UNSPEC)
        try check(nlmsg_append(request, &header, MemoryLayout<ifinfomsg>.size, Int32(NLMSG_ALIGNTO)), "delete links", "group \(group)")
        try check(nla_put_u32(request, Int32(IFLA_GROUP), group), "delete links", "group \(group)")
        try check(nl_send_auto(socket, request), "delete links", "group \(group)")
        let result = nl_wait_for_ack(socket)
        // An empty group is nothing to delete.
        if result == -NLE_NODEV || result == -NLE_OBJ_NOTFOUND { return }
        try check(result, "delete links", "group \(group)")
    }

    /// A macvlan `name` on the link with index `parent` (bridge mode), created
    /// directly in the namespace open at `namespace`.
    func addMacvlan(_ name: String, parent: Int32, namespace: Int32) throws(SystemError) {
        let link = rtnl_link_macvlan_alloc()!
        defer { rtnl_link_put(link) }
        rtnl_link_set_name(link, name)
        rtnl_link_set_link(link, parent)
        rtnl_link_macvlan_set_mode(link, UInt32(MACVLAN_MODE_BRIDGE.rawValue))
        rtnl_link_set_ns_fd(link, namespace)
        try check(rtnl_link_add(socket, link, NLM_F_CREATE | NLM_F_EXCL), "add macvlan", "\(name) on link \(parent)")
    }

    /// Whether the kernel can make macvlan links: asks for one on `lo`, which
    /// a kernel with macvlan refuses as a parent (EINVAL) and one without
    /// refuses as an unknown kind (EOPNOTSUPP). Nothing is created either way.
    func supportsMacvlan() -> Bool {
        let link = rtnl_link_macvlan_alloc()!
        defer { rtnl_link_put(link) }
        rtnl_link_set_name(link, "pvdprobe0")
        rtnl_link_set_link(link, 1)
        let result = rtnl_link_add(socket, link, NLM_F_CREATE | NLM_F_EXCL)
        if result >= 0 { _ = try? deleteLink("pvdprobe0") }
        return result != -NLE_OPNOTSUPP
    }

    func deleteLink(_ name: String) throws(SystemError) {
        let link = rtnl_link_alloc()!
        defer { rtnl_link_put(link) }
        rtnl_link_set_name(link, name)
        try check(rtnl_link_delete(socket, link), "delete link", name)
    }

    /// Sets the link up (or down) and, when given, its MTU.
    func setLink(_ name: String, up: Bool, mtu: UInt32? = nil) throws(SystemError) {
        var original: OpaquePointer?
        try check(rtnl_link_get_kernel(socket, 0, name, &original), "find link", name)
        defer { rtnl_link_put(original) }
        let changes = rtnl_link_alloc()!
        defer { rtnl_link_put(changes) }
        if up { rtnl_link_set_flags(changes, UInt32(IFF_UP)) } else { rtnl_link_unset_flags(changes, UInt32(IFF_UP)) }
        if let mtu { rtnl_link_set_mtu(changes, mtu) }
        try check(rtnl_link_change(socket, original, changes, 0), "set link", "\(name) \(up ? "up" : "down")\(mtu.map { " mtu \($0)" } ?? "")")
    }

    // MARK: Addresses

    func addresses() throws(SystemError) -> [KernelAddress] {
        var addresses: [KernelAddress] = []
        try dump("list addresses", { rtnl_addr_alloc_cache(socket, &$0) }) { address in
            guard rtnl_addr_get_family(address) == AF_INET6,
                let (local, length) = NetlinkSocket.ipv6(rtnl_addr_get_local(address))
            else { return }
            addresses.append(KernelAddress(interfaceIndex: rtnl_addr_get_ifindex(address), address: local, prefixLength: length))
        }
        return addresses
    }

    /// Every IPv6 address with whether it is usable: neither tentative nor
    /// failed duplicate address detection.
    func addressesUsable() throws(SystemError) -> [(address: IPv6Address, usable: Bool)] {
        var addresses: [(IPv6Address, Bool)] = []
        try dump("list addresses", { rtnl_addr_alloc_cache(socket, &$0) }) { address in
            guard rtnl_addr_get_family(address) == AF_INET6, let (local, _) = NetlinkSocket.ipv6(rtnl_addr_get_local(address)) else { return }
            addresses.append((local, rtnl_addr_get_flags(address) & UInt32(IFA_F_TENTATIVE | IFA_F_DADFAILED) == 0))
        }
        return addresses
    }

    private func changeAddress(_ add: Bool, _ entry: KernelAddress, on linkName: String) throws(SystemError) {
        try changeAddress(
            add, family: AF_INET6, entry.address.octets, prefixLength: entry.prefixLength,
            interfaceIndex: entry.interfaceIndex, object: "\(entry.address)/\(entry.prefixLength) on \(linkName)")
    }

    private func changeAddress(
        _ add: Bool, family: Int32, _ octets: [UInt8], prefixLength: Int, interfaceIndex: Int32,
        object: String
    ) throws(SystemError) {
        let address = rtnl_addr_alloc()!
        defer { rtnl_addr_put(address) }
        let local = NetlinkSocket.address(family: family, octets, prefixLength: prefixLength)
        defer { nl_addr_put(local) }
        rtnl_addr_set_family(address, family)
        rtnl_addr_set_ifindex(address, interfaceIndex)
        rtnl_addr_set_local(address, local)
        rtnl_addr_set_prefixlen(address, Int32(prefixLength))
        if add {
            rtnl_addr_set_flags(address, UInt32(IFA_F_NODAD))
            try change("add address", object) { rtnl_addr_build_add_request(address, NLM_F_CREATE | NLM_F_EXCL, &$0) }
        } else {
            try change("delete address", object) { rtnl_addr_build_delete_request(address, 0, &$0) }
        }
    }

    /// Adds an address without kernel DAD (pvd does DAD on the uplink itself).
    func addAddress(_ entry: KernelAddress, on linkName: String) throws(SystemError) {
        try changeAddress(true, entry, on: linkName)
    }

    func deleteAddress(_ entry: KernelAddress, on linkName: String) throws(SystemError) {
        try changeAddress(false, entry, on: linkName)
    }

    /// IPv4 addresses of every link.
    func ipv4Addresses() throws(SystemError) -> [KernelIPv4Address] {
        var addresses: [KernelIPv4Address] = []
        try dump("list addresses", { rtnl_addr_alloc_cache(socket, &$0) }) { address in
            guard rtnl_addr_get_family(address) == AF_INET, let local = rtnl_addr_get_local(address),
                nl_addr_get_len(local) == 4, let binary = nl_addr_get_binary_addr(local)
            else { return }
            addresses.append(
                KernelIPv4Address(
                    interfaceIndex: rtnl_addr_get_ifindex(address),
                    octets: Array(UnsafeRawBufferPointer(start: binary, count: 4)),
                    prefixLength: Int(nl_addr_get_prefixlen(local))))
        }
        return addresses
    }

    func addIPv4Address(_ entry: KernelIPv4Address, on linkName: String) throws(SystemError) {
        try changeAddress(
            true, family: AF_INET, entry.octets, prefixLength: entry.prefixLength,
            interfaceIndex: entry.interfaceIndex, object: "\(entry.text) on \(linkName)")
    }

    func deleteIPv4Address(_ entry: KernelIPv4Address, on linkName: String) throws(SystemError) {
        try changeAddress(
            false, family: AF_INET, entry.octets, prefixLength: entry.prefixLength,
            interfaceIndex: entry.interfaceIndex, object: "\(entry.text) on \(linkName)")
    }

    /// Adds or deletes an IPv4 route of the main table (`destination` with its
    /// prefix length), via `gateway` or, without one, straight out of the link.
    func changeIPv4Route(
        _ add: Bool, to destination: [UInt8] = [0, 0, 0, 0], length: Int = 0, via gateway: [UInt8]?,
        interfaceIndex: Int32, linkName: String
    ) throws(SystemError) {
        let route = rtnl_route_alloc()!
        defer { rtnl_route_put(route) }
        rtnl_route_set_family(route, UInt8(AF_INET))
        rtnl_route_set_table(route, UInt32(RT_TABLE_MAIN.rawValue))
        rtnl_route_set_protocol(route, UInt8(add ? RTPROT_STATIC : RTPROT_UNSPEC))
        let target = NetlinkSocket.address(family: AF_INET, destination, prefixLength: length)
        rtnl_route_set_dst(route, target)
        nl_addr_put(target)
        let nexthop = rtnl_route_nh_alloc()!
        rtnl_route_nh_set_ifindex(nexthop, interfaceIndex)
        if let gateway {
            let address = NetlinkSocket.address(family: AF_INET, gateway, prefixLength: 32)
            rtnl_route_nh_set_gateway(nexthop, address)
            nl_addr_put(address)
        }
        rtnl_route_add_nexthop(route, nexthop)
        let via = gateway.map { " via " + $0.map(String.init).joined(separator: ".") } ?? ""
        let object = "\(destination.map(String.init).joined(separator: "."))/\(length)\(via) dev \(linkName)"
        if add {
            try change("add route", object) { rtnl_route_build_add_request(route, NLM_F_CREATE | NLM_F_EXCL, &$0) }
        } else {
            try change("delete route", object) { rtnl_route_build_del_request(route, 0, &$0) }
        }
    }

    /// Moves a link into the network namespace open at `namespace` (its
    /// addresses and routes do not follow; the new namespace sets them).
    func moveLink(_ name: String, toNamespace namespace: Int32) throws(SystemError) {
        var original: OpaquePointer?
        try check(rtnl_link_get_kernel(socket, 0, name, &original), "find link", name)
        defer { rtnl_link_put(original) }
        let changes = rtnl_link_alloc()!
        defer { rtnl_link_put(changes) }
        rtnl_link_set_ns_fd(changes, namespace)
        try check(rtnl_link_change(socket, original, changes, 0), "move link", name)
    }

    /// Whether the main table has an IPv4 default route out of the link.
    func hasIPv4DefaultRoute(interfaceIndex: Int32) throws(SystemError) -> Bool {
        var found = false
        try dump("list routes", { rtnl_route_alloc_cache(socket, AF_INET, 0, &$0) }) { route in
            guard rtnl_route_get_table(route) == UInt32(RT_TABLE_MAIN.rawValue), let destination = rtnl_route_get_dst(route),
                nl_addr_get_prefixlen(destination) == 0, rtnl_route_get_nnexthops(route) == 1
            else { return }
            if rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(route, 0)) == interfaceIndex { found = true }
        }
        return found
    }

    /// The IPv4 routes of the main table out of one interface, as `a.b.c.d/len`
    /// (the kernel's own prefix routes left out).
    func ipv4Routes(interfaceIndex: Int32) throws(SystemError) -> [String] {
        var routes: [String] = []
        try dump("list routes", { rtnl_route_alloc_cache(socket, AF_INET, 0, &$0) }) { route in
            guard rtnl_route_get_table(route) == UInt32(RT_TABLE_MAIN.rawValue), rtnl_route_get_protocol(route) != UInt8(RTPROT_KERNEL),
                let destination = rtnl_route_get_dst(route), rtnl_route_get_nnexthops(route) == 1,
                rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(route, 0)) == interfaceIndex
            else { return }
            let length = nl_addr_get_prefixlen(destination)
            var octets = [UInt8](repeating: 0, count: 4)
            if nl_addr_get_len(destination) == 4, let binary = nl_addr_get_binary_addr(destination) {
                octets = Array(UnsafeRawBufferPointer(start: binary, count: 4))
            }
            routes.append(octets.map(String.init).joined(separator: ".") + "/\(length)")
        }
        return routes
    }
}
