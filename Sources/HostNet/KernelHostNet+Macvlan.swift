import CNetlinkRoute
import Glibc
import PvDCore
import PvDWire

/// The macvlan attachment: `pvd0` is a macvlan of the uplink, created in the
/// domain's namespace, so the domain is a node on the link with its own MAC
/// address. Its routers and on-link neighbours are reached directly; the host
/// routes, proxies and filters nothing for it.
extension KernelHostNet {
    func applyMacvlan(
        _ spec: DomainSpec, namespace: String, namespaceFD: Int32, inside: NetlinkSocket,
        uplink: KernelLink, _ transaction: Transaction
    ) throws(SystemError) {
        if try inside.link(named: DomainNaming.domainLink) == nil {
            try transaction.step(
                "add macvlan", "\(DomainNaming.domainLink) on \(uplink.name) for \(namespace)",
                { () throws(SystemError) in
                    try host.addMacvlan(DomainNaming.domainLink, parent: uplink.index, namespace: namespaceFD)
                }, undo: { () throws(SystemError) in try inside.deleteLink(DomainNaming.domainLink) })
        }
        try configureDomainLink(spec, namespace: namespace, inside: inside, transaction)
        guard let domainLink = try inside.link(named: DomainNaming.domainLink) else {
            throw SystemError(step: "find macvlan", object: "\(DomainNaming.domainLink) in \(namespace)", reason: "vanished after creation")
        }

        // A stable link-local address of the domain's own, for neighbour discovery on the link.
        let linkLocal = StableAddress.address(in: IPv6Prefix("fe80::/64")!, domain: spec.name, secret: Array(uplink.name.utf8))
        var wanted = Set(spec.addresses.map { KernelAddress(interfaceIndex: domainLink.index, address: $0, prefixLength: 128) })
        wanted.insert(KernelAddress(interfaceIndex: domainLink.index, address: linkLocal, prefixLength: 64))
        let present = Set(try inside.addresses().filter { $0.interfaceIndex == domainLink.index })
        for extra in present.subtracting(wanted) {
            try transaction.step(
                "delete address", "\(extra.address)/\(extra.prefixLength) in \(namespace)",
                { () throws(SystemError) in
                    try inside.deleteAddress(extra, on: DomainNaming.domainLink)
                }, undo: { () throws(SystemError) in try inside.addAddress(extra, on: DomainNaming.domainLink) })
        }
        let newAddresses = wanted.subtracting(present).sorted { $0.address < $1.address }
        try checkNewAddresses(newAddresses.map(\.address).filter { !$0.isLinkLocal })
        for missing in newAddresses {
            try addAddress(missing, on: DomainNaming.domainLink, socket: inside, transaction)
        }

        let main = UInt32(RT_TABLE_MAIN.rawValue)
        var routes = spec.onLinkPrefixes.map {
            KernelRoute(destination: $0, table: main, interfaceIndex: domainLink.index, gateways: [])
        }
        let anywhere = IPv6Prefix(address: .unspecified, length: 0)!
        if !spec.routers.isEmpty {
            for destination in [anywhere] + spec.routes {
                routes.append(KernelRoute(destination: destination, table: main, interfaceIndex: domainLink.index, gateways: spec.routers))
            }
        }
        // RFC 8028: an address whose prefix only some routers advertised leaves through those.
        for (address, routers) in spec.nextHops.sorted(by: { $0.key < $1.key }) where spec.addresses.contains(address) && !routers.isEmpty {
            routes.append(
                KernelRoute(
                    destination: anywhere, table: main, interfaceIndex: domainLink.index, gateways: routers,
                    source: IPv6Prefix(address: address, length: 128)))
        }
        let presentRoutes = try inside.routes(table: main).filter {
            $0.interfaceIndex == domainLink.index && $0.origin == UInt8(RTPROT_STATIC)
        }
        try reconcile(routes: routes, present: presentRoutes, linkName: DomainNaming.domainLink, socket: inside, transaction)
    }
}
