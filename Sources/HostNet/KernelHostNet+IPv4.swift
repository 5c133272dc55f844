import Glibc
import LinuxSystem
import PvDCore

/// IPv4 for a domain with ``DomainSpec/ipv4`` (routed attachment):
///
/// - a /31 on the veth from 169.254.64.0/18 by slot (IPv4 link-local, clear of
///   its first and last /24 and of 169.254.169.254): the host side even, the
///   domain side odd; inside, the default route via the host side;
/// - IPv4 forwarding on the veth and on the uplink; the uplink's original
///   value is kept in a record of its own whose users are the IPv4 domains,
///   and put back when the last of them goes;
/// - the nftables table `ip pvd_pvhXXXX`: masquerade out of the uplink, and a
///   forward filter that lets the domain out through its uplink only and lets
///   in only replies and what a published port sends in (DNAT, by pvd's
///   ports table); where pvd turned the uplink's forwarding on, nothing else
///   is forwarded from the uplink either.
extension KernelHostNet {
    /// The veth's IPv4 ends for a slot.
    static func ipv4Link(slot: UInt16) -> (host: [UInt8], domain: [UInt8]) {
        let offset = 2 * Int(slot)
        let host: [UInt8] = [169, 254, UInt8(64 + (offset >> 8)), UInt8(offset & 0xFF)]
        return (host, [host[0], host[1], host[2], host[3] + 1])
    }

    static func firewallTable(_ naming: DomainNaming) -> String { "pvd_" + naming.hostLink }

    func applyIPv4(
        _ spec: DomainSpec, naming: DomainNaming, inside: NetlinkSocket, domainLink: KernelLink,
        hostLink: KernelLink, uplink: KernelLink, fresh: Bool, _ transaction: Transaction
    ) throws(SystemError) {
        if fresh && !spec.ipv4 { return }
        let ends = KernelHostNet.ipv4Link(slot: naming.slot)
        let hostAddress = KernelIPv4Address(interfaceIndex: hostLink.index, octets: ends.host, prefixLength: 31)
        let domainAddress = KernelIPv4Address(interfaceIndex: domainLink.index, octets: ends.domain, prefixLength: 31)
        let present = try inside.ipv4Addresses().contains(domainAddress)
        let table = KernelHostNet.firewallTable(naming)
        guard spec.ipv4 else {
            if present {
                try removeIPv4(
                    domain: spec.name, naming: naming, inside: inside, hostAddress: hostAddress,
                    domainAddress: domainAddress, uplink: uplink.name, transaction)
            }
            return
        }
        guard Nftables.isPlainInterfaceName(uplink.name) else {
            throw SystemError(
                step: "give IPv4", object: "\(spec.name) on \(uplink.name)",
                reason: "the uplink's name cannot be written in an nftables rule")
        }
        let record = try UplinkRecord(uplink.name, root: UplinkRecord.ipv4Root)
        try set(
            [(Sysctl.ipv4(hostLink.name, "forwarding"), "1"), (Sysctl.ipv4(uplink.name, "forwarding"), "1")],
            recordedIn: record, user: spec.name, transaction)
        if !present {
            try transaction.step(
                "add address", "\(hostAddress.text) on \(hostLink.name)",
                { () throws(SystemError) in
                    try host.addIPv4Address(hostAddress, on: hostLink.name)
                }, undo: { () throws(SystemError) in try self.host.deleteIPv4Address(hostAddress, on: hostLink.name) })
            try transaction.step(
                "add address", "\(domainAddress.text) on \(DomainNaming.domainLink) in \(naming.namespace)",
                { () throws(SystemError) in
                    try inside.addIPv4Address(domainAddress, on: DomainNaming.domainLink)
                }, undo: { () throws(SystemError) in try inside.deleteIPv4Address(domainAddress, on: DomainNaming.domainLink) })
        }
        if try !inside.hasIPv4DefaultRoute(interfaceIndex: domainLink.index) {
            try transaction.step(
                "add route", "0.0.0.0/0 in \(naming.namespace)",
                { () throws(SystemError) in
                    try inside.changeIPv4Route(true, via: ends.host, interfaceIndex: domainLink.index, linkName: DomainNaming.domainLink)
                },
                undo: { () throws(SystemError) in
                    try inside.changeIPv4Route(false, via: ends.host, interfaceIndex: domainLink.index, linkName: DomainNaming.domainLink)
                })
        }
        let hasTable = present ? try Nftables.tables(family: "ip").contains(table) : false
        if !hasTable {
            let guardUplink = record.originals()[Sysctl.ipv4(uplink.name, "forwarding")] == "0"
            let script = KernelHostNet.firewallScript(
                table: table, hostLink: hostLink.name, uplink: uplink.name,
                domainAddress: ends.domain, guardUplink: guardUplink)
            try transaction.step(
                "set nftables table", "ip \(table)",
                { () throws(SystemError) in
                    try Nftables.run(script, step: "set nftables table", object: "ip \(table)")
                }, undo: { () throws(SystemError) in try KernelHostNet.deleteFirewall(table) })
        }
    }

    /// The domain's table, replacing any earlier one in the same transaction.
    static func firewallScript(table: String, hostLink: String, uplink: String, domainAddress: [UInt8], guardUplink: Bool) -> String {
        let address = domainAddress.map(String.init).joined(separator: ".")
        return """
            table ip \(table) {}
            delete table ip \(table)
            table ip \(table) {
              chain forward {
                type filter hook forward priority filter; policy accept;
                iifname "\(hostLink)" oifname "\(uplink)" accept
                iifname "\(hostLink)" drop
                oifname "\(hostLink)" iifname "\(uplink)" ct state established,related accept
                oifname "\(hostLink)" iifname "\(uplink)" ct status dnat accept
                oifname "\(hostLink)" drop
            \(guardUplink ? "    iifname \"\(uplink)\" oifname != \"\(DomainNaming.hostLinkPrefix)*\" drop\n" : "")  }
              chain postrouting {
                type nat hook postrouting priority srcnat; policy accept;
                oifname "\(uplink)" ip saddr \(address) masquerade
              }
            }
            """
    }

    /// Deletes a domain's table; an absent one is not an error.
    static func deleteFirewall(_ table: String) throws(SystemError) {
        try Nftables.run("table ip \(table) {}\ndelete table ip \(table)", step: "delete nftables table", object: "ip \(table)")
    }

    /// Takes IPv4 away from a live domain (another domain got it).
    private func removeIPv4(
        domain: String, naming: DomainNaming, inside: NetlinkSocket, hostAddress: KernelIPv4Address,
        domainAddress: KernelIPv4Address, uplink: String, _ transaction: Transaction
    ) throws(SystemError) {
        let table = KernelHostNet.firewallTable(naming)
        let hostLink = naming.hostLink
        let guardUplink = try UplinkRecord(uplink, root: UplinkRecord.ipv4Root).originals()[Sysctl.ipv4(uplink, "forwarding")] == "0"
        let script = KernelHostNet.firewallScript(
            table: table, hostLink: hostLink, uplink: uplink,
            domainAddress: domainAddress.octets, guardUplink: guardUplink)
        try transaction.step(
            "delete nftables table", "ip \(table)", { () throws(SystemError) in try KernelHostNet.deleteFirewall(table) },
            undo: { () throws(SystemError) in try Nftables.run(script, step: "set nftables table", object: "ip \(table)") })
        try transaction.step(
            "delete address", "\(domainAddress.text) in \(naming.namespace)",
            { () throws(SystemError) in
                try inside.deleteIPv4Address(domainAddress, on: DomainNaming.domainLink)  // its default route goes with it
            },
            undo: { () throws(SystemError) in
                try inside.addIPv4Address(domainAddress, on: DomainNaming.domainLink)
                try inside.changeIPv4Route(
                    true, via: hostAddress.octets, interfaceIndex: domainAddress.interfaceIndex,
                    linkName: DomainNaming.domainLink)
            })
        try transaction.step(
            "delete address", "\(hostAddress.text) on \(hostLink)",
            { () throws(SystemError) in
                try host.deleteIPv4Address(hostAddress, on: hostLink)
            }, undo: { () throws(SystemError) in try self.host.addIPv4Address(hostAddress, on: hostLink) })
        try transaction.step(
            "release uplink", "\(uplink) IPv4 for \(domain)",
            { () throws(SystemError) in
                try KernelHostNet.releaseUplink(uplink, domains: [domain], root: UplinkRecord.ipv4Root)
            },
            undo: { () throws(SystemError) in
                try self.set(
                    [(Sysctl.ipv4(uplink, "forwarding"), "1")], recordedIn: try UplinkRecord(uplink, root: UplinkRecord.ipv4Root),
                    user: domain, Transaction())
            })
    }
}
