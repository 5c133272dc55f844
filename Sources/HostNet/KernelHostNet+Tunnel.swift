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
                throw SystemError(step: "create namespace", object: namespace, reason: "it exists but is not a domain of this host", code: EEXIST)
            }
            try transaction.step(
                "register domain", "\(registry.directory)/\(name)",
                { () throws(SystemError) in
                    try registry.add(name, uplink: "")
                }, undo: { () throws(SystemError) in try registry.remove(name) })
            try transaction.step(
                "create namespace", namespace, { () throws(SystemError) in try Namespaces.create(namespace) },
                undo: { () throws(SystemError) in try Namespaces.delete(namespace) })
            let fd = try Namespaces.openDescriptor(namespace)
            defer { close(fd) }
            try Namespaces.run(in: fd, name: namespace) { () throws(SystemError) in
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
    /// all or nothing.
    public func attachTunnel(_ settings: TunnelSettings, to name: String) throws(SystemError) {
        let transaction = Transaction(failAtStep: failAtStep)
        do throws(SystemError) {
            let namespace = DomainNaming.namespace(ofDomain: name)
            let fd = try Namespaces.openDescriptor(namespace)
            defer { close(fd) }
            let device = settings.device
            try transaction.step(
                "move link", "\(device) into \(namespace)",
                { () throws(SystemError) in
                    try host.moveLink(device, toNamespace: fd)
                }, undo: { () throws(SystemError) in })  // the client's exit takes the device away
            let inside = try Namespaces.run(in: fd, name: namespace) { () throws(SystemError) in
                if Sysctl.exists(Sysctl.ipv6(device, "accept_ra")) { try Sysctl.write(Sysctl.ipv6(device, "accept_ra"), "0") }
                return try NetlinkSocket(namespace: namespace)
            }
            try inside.setLink(device, up: true, mtu: settings.mtu)
            guard let link = try inside.link(named: device) else {
                throw SystemError(step: "find link", object: "\(device) in \(namespace)", reason: "vanished after the move", code: -ENODEV)
            }
            if let ipv4 = settings.ipv4 {
                try inside.addIPv4Address(
                    KernelIPv4Address(interfaceIndex: link.index, octets: ipv4.octets, prefixLength: ipv4.length),
                    on: device)
                try inside.changeIPv4Route(true, via: nil, interfaceIndex: link.index, linkName: device)
                for route in settings.ipv4Routes where route.length > 0 {
                    try inside.changeIPv4Route(true, to: route.octets, length: route.length, via: nil, interfaceIndex: link.index, linkName: device)
                }
            }
            if let ipv6 = settings.ipv6 {
                try inside.addAddress(
                    KernelAddress(interfaceIndex: link.index, address: ipv6, prefixLength: settings.ipv6PrefixLength),
                    on: device)
                let main = UInt32(RT_TABLE_MAIN.rawValue)
                for prefix in [IPv6Prefix(address: .unspecified, length: 0)!] + settings.ipv6Routes {
                    try inside.addRoute(KernelRoute(destination: prefix, table: main, interfaceIndex: link.index, gateways: []), linkName: device)
                }
            }
            try writeResolvConf(settings.resolvConf(domain: name), namespace: namespace, transaction)
        } catch {
            _ = transaction.rollback()
            throw error
        }
    }

    /// The tunnel inside a VPN domain, when there is one: its device and
    /// addresses (IPv4 and IPv6, without prefix lengths).
    /// The domain's tunnel and its addresses. The netlink socket inside the
    /// domain is made once and kept (entering a namespace for each question
    /// would hold pvdd's loop for milliseconds); ``remove(_:)`` lets it go.
    public func tunnel(in name: String) -> (device: String, addresses: [String])? {
        let namespace = DomainNaming.namespace(ofDomain: name)
        if tunnelSockets[name] == nil {
            guard let fd = try? Namespaces.openDescriptor(namespace) else { return nil }
            defer { close(fd) }
            tunnelSockets[name] = try? Namespaces.run(in: fd, name: namespace) { () throws(SystemError) in try NetlinkSocket(namespace: namespace) }
        }
        guard let inside = tunnelSockets[name], let link = try? inside.links().first(where: { $0.name.hasPrefix("pvt") }) else { return nil }
        let ipv4 = (try? inside.ipv4Addresses().filter { $0.interfaceIndex == link.index }.map { $0.octets.map(String.init).joined(separator: ".") }) ?? []
        let ipv6 = (try? inside.addresses().filter { $0.interfaceIndex == link.index && !$0.address.isLinkLocal }.map(\.address.description)) ?? []
        return (link.name, ipv4 + ipv6)
    }
}
