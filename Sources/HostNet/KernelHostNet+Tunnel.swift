import CNetlinkRoute
import Glibc
import LinuxSystem
import PvDCore
import PvDWire

/// VPN domains (docs/design.md, "A domain on the host"): a namespace with `lo`
/// and nothing else until the VPN client's tunnel device, made in the
/// daemon's namespace (so the client's own socket uses the host's uplinks),
/// is moved in with its addresses, routes and DNS. The tunnel is the
/// domain's only way out: traffic goes through it or nowhere.
extension KernelHostNet {
    /// The tunnel device name for a VPN domain: `pvt` and its slot.
    public static func tunnelDevice(for name: String) throws(SystemError) -> String {
        do { return "pvt" + String(try DomainNaming(name: name).hostLink.dropFirst(3)) } catch {
            throw SystemError(step: "check domain name", object: name, reason: error.description)
        }
    }

    /// Makes the empty VPN domain `name` (or finds it made): registered,
    /// `lo` up, no router advertisements taken, and a resolv.conf with no
    /// server until the tunnel comes (so no lookup leaves through the host).
    public func createTunnelDomain(_ name: String) throws(SystemError) {
        let transaction = Transaction(failAtStep: failAtStep)
        do throws(SystemError) {
            do { try DomainNaming.validate(name) } catch {
                throw SystemError(step: "check domain name", object: name, reason: error.description)
            }
            let registry = try DomainRegistry()
            let namespace = DomainNaming.namespace(ofDomain: name)
            if registry.contains(name), Namespaces.exists(namespace) { return }
            guard !Namespaces.exists(namespace) else {
                throw SystemError(step: "create namespace", object: namespace, reason: "it exists but is not a domain of this host", code: .errno(EEXIST))
            }
            try transaction.step(
                "register domain", "\(registry.directory)/\(name)",
                { () throws(SystemError) in
                    try registry.add(name, uplink: "")
                }, undo: { () throws(SystemError) in try registry.remove(name) })
            try transaction.step(
                "create namespace", namespace, { () throws(SystemError) in try Namespaces.create(namespace) },
                undo: { () throws(SystemError) in try Namespaces.delete(namespace) })
            let ping = KernelHostNet.domainPingGroupRange()
            try Namespaces.run(inNamed: namespace) { () throws(SystemError) in
                try KernelHostNet.setPingGroupRange(ping)
                for key in ["all", "default"] { try Sysctl.write(Sysctl.ipv6(key, "accept_ra"), "0") }
                try NetlinkSocket(namespace: namespace).setLink("lo", up: true)
            }
            try writeResolvConf("# No VPN tunnel yet: no DNS server.\n", namespace: namespace, transaction)
        } catch {
            _ = transaction.rollback()
            throw error
        }
    }

    /// Moves the tunnel device into the VPN domain and configures it there;
    /// all or nothing. Run again for the same device (OpenVPN's
    /// `persist-tun` reconnect, OpenConnect's `reconnect`), it finds the
    /// device already inside and brings its addresses and routes in line.
    /// Routes the domain has anyway (defaults, the tunnel's own subnet,
    /// repeats) are dropped first: servers push them, and they must not
    /// fail the tunnel.
    public func attachTunnel(_ pushed: TunnelSettings, to name: String) throws(SystemError) {
        let settings = pushed.withoutRedundantRoutes()
        let transaction = Transaction(failAtStep: failAtStep)
        do throws(SystemError) {
            let namespace = DomainNaming.namespace(ofDomain: name)
            let fd = try Namespaces.openDescriptor(namespace)
            defer { close(fd) }
            let device = settings.device
            if try host.link(named: device) != nil {
                try transaction.step(
                    "move link", "\(device) into \(namespace)",
                    { () throws(SystemError) in
                        try host.moveLink(device, toNamespace: fd)
                    }, undo: { () throws(SystemError) in })  // the client's exit takes the device away
            }
            let inside = try Namespaces.run(in: fd, name: namespace) { () throws(SystemError) in
                if Sysctl.exists(Sysctl.ipv6(device, "accept_ra")) { try Sysctl.write(Sysctl.ipv6(device, "accept_ra"), "0") }
                return try NetlinkSocket(namespace: namespace)
            }
            guard let link = try inside.link(named: device) else {
                throw SystemError(step: "find link", object: "\(device) in \(namespace)", reason: "not in the host nor in the domain", code: .errno(ENODEV))
            }
            try inside.setLink(device, up: true, mtu: settings.mtu)
            let wanted4 = settings.ipv4.map { [KernelIPv4Address(interfaceIndex: link.index, octets: $0.octets, prefixLength: $0.length)] } ?? []
            let present4 = try inside.ipv4Addresses().filter { $0.interfaceIndex == link.index }
            for extra in present4 where !wanted4.contains(extra) { try inside.deleteIPv4Address(extra, on: device) }
            for missing in wanted4 where !present4.contains(missing) { try inside.addIPv4Address(missing, on: device) }
            if !wanted4.isEmpty {
                for route in [TunnelSettings.IPv4Prefix(octets: [0, 0, 0, 0], length: 0)] + settings.ipv4Routes {
                    try ignoringExisting { () throws(SystemError) in
                        try inside.changeIPv4Route(true, to: route.octets, length: route.length, via: nil, interfaceIndex: link.index, linkName: device)
                    }
                }
            }
            let wanted6 = settings.ipv6.map { [KernelAddress(interfaceIndex: link.index, address: $0, prefixLength: settings.ipv6PrefixLength)] } ?? []
            let present6 = try inside.addresses().filter { $0.interfaceIndex == link.index && !$0.address.isLinkLocal }
            for extra in present6 where !wanted6.contains(extra) { try inside.deleteAddress(extra, on: device) }
            for missing in wanted6 where !present6.contains(missing) { try inside.addAddress(missing, on: device) }
            if !wanted6.isEmpty {
                for prefix in [DomainPlan.anywhere] + settings.ipv6Routes {
                    let route = KernelRoute(destination: prefix, table: DomainPlan.mainTable, interfaceIndex: link.index, gateways: [])
                    try ignoringExisting { () throws(SystemError) in try inside.addRoute(route, linkName: device) }
                }
            }
            try writeResolvConf(settings.resolvConf(domain: name), namespace: namespace, transaction)
        } catch {
            _ = transaction.rollback()
            throw error
        }
    }

    /// Deletes the tunnel device a client left in its domain when it ended
    /// (a persistent tun device outlives its program), so that the next
    /// client's device, of the same name, can move in.
    public func detachTunnel(from name: String) throws(SystemError) {
        let namespace = DomainNaming.namespace(ofDomain: name)
        let device = try KernelHostNet.tunnelDevice(for: name)
        let inside = try NetlinkSocket.inside(namespace)
        if try inside.link(named: device) != nil { try inside.deleteLink(device) }
    }

    /// Runs `change`; a route that exists already is what was wanted.
    private func ignoringExisting(_ change: () throws(SystemError) -> Void) throws(SystemError) {
        do { try change() } catch  where error.code == .netlink(NLE_EXIST) {}
    }

    /// Whether the kernel's WireGuard is loaded (else pvd uses wireguard-go).
    public static var hasWireGuardModule: Bool { access("/sys/module/wireguard", F_OK) == 0 }

    /// What a VPN domain's tunnel has: its device, addresses (IPv4 and IPv6,
    /// without prefix lengths), routes besides the defaults, and the DNS
    /// servers and search domains of its resolv.conf. The netlink socket
    /// inside the domain is made once and kept (entering a namespace for each
    /// question would hold pvdd's loop for milliseconds); ``remove(_:)`` lets it go.
    public func tunnel(in name: String) -> TunnelReadback? {
        let namespace = DomainNaming.namespace(ofDomain: name)
        if tunnelSockets[name] == nil {
            tunnelSockets[name] = try? NetlinkSocket.inside(namespace)
        }
        guard let inside = tunnelSockets[name], let link = try? inside.links().first(where: { $0.name.hasPrefix("pvt") }) else { return nil }
        let ipv4 = (try? inside.ipv4Addresses().filter { $0.interfaceIndex == link.index }.map { $0.octets.map(String.init).joined(separator: ".") }) ?? []
        let ipv6 = (try? inside.addresses().filter { $0.interfaceIndex == link.index && !$0.address.isLinkLocal }.map(\.address.description)) ?? []
        let routes4 = ((try? inside.ipv4Routes(interfaceIndex: link.index)) ?? []).filter { $0 != "0.0.0.0/0" }
        let routes6 =
            (try? inside.routes(table: DomainPlan.mainTable).filter {
                $0.interfaceIndex == link.index && $0.destination.length > 0 && $0.origin != UInt8(RTPROT_KERNEL)
            }.map(\.destination.description)) ?? []
        var servers: [String] = []
        var search: [String] = []
        for line in (HostFiles.read(Paths.files(ofNamespace: namespace) + "/resolv.conf") ?? "").split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            if words.first == "nameserver", words.count == 2 { servers.append(words[1]) }
            if words.first == "search" { search += words.dropFirst() }
        }
        return TunnelReadback(
            device: link.name, addresses: ipv4 + ipv6, routes: routes4 + routes6, dnsServers: servers, searchDomains: search,
            bytesIn: link.bytesIn, bytesOut: link.bytesOut)
    }
}

/// What a VPN domain's tunnel has in the kernel (``KernelHostNet/tunnel(in:)``).
public struct TunnelReadback: Equatable, Sendable {
    public var device: String
    public var addresses: [String]
    public var routes: [String]
    public var dnsServers: [String]
    public var searchDomains: [String]
    /// What the device received and sent (the kernel's counters).
    public var bytesIn: UInt64
    public var bytesOut: UInt64
}
