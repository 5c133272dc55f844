import CNetlinkRoute
import LinuxSystem
import PvDCore
import PvDWire

extension KernelHostNet {
    /// What the kernel has in the namespace `namespace`, for a domain's
    /// verification: its addresses (and whether usable), the destinations of
    /// its main table, and the servers its resolv.conf names.
    public func observe(namespace: String) throws(SystemError) -> ObservedDomain {
        guard Namespaces.exists(namespace) else { return ObservedDomain() }
        let inside = try NetlinkSocket.inside(namespace)
        var observed = ObservedDomain(namespaceExists: true)
        for entry in try inside.addressesUsable() { observed.addresses[entry.address] = entry.usable }
        observed.routes = Set(try inside.routes(table: UInt32(RT_TABLE_MAIN.rawValue)).map(\.destination))
        let text = HostFiles.read(Paths.files(ofNamespace: namespace) + "/resolv.conf") ?? ""
        observed.nameservers = text.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ")
            return words.count == 2 && words[0] == "nameserver" ? String(words[1]) : nil
        }
        return observed
    }
}
