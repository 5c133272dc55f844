import CNetlinkRoute
import Glibc
import LinuxSystem
import PvDCore

/// The host stays a host while it forwards for routed domains:
///
/// - **Its own autoconfiguration.** Setting any IPv6 `forwarding` flag makes
///   the kernel drop the RA-learnt default routes of every interface whose
///   `accept_ra` is not 2, and a forwarding interface with `accept_ra` 1
///   ignores RAs. So before the first routed domain, every interface (and
///   `default`, for interfaces that come later) with `accept_ra` 1 gets 2, which
///   changes nothing else. Should a default route be lost anyway, the
///   interface is solicited (``KernelHostNet/solicitRouters``) so that its
///   routers answer at once.
/// - **Forwarding.** Per interface where the kernel has `force_forwarding`
///   (the uplinks and the veths); otherwise, or in ``ForwardingMode/global``,
///   `all.forwarding`.
/// - **Nothing forwarded that is not pvd's.** The nftables table `ip6 pvd`
///   passes traffic between an uplink in use and pvd's veths, drops anything
///   else to or from a veth and, when the host did not forward before pvd
///   (`all.forwarding` was 0), everything else. It is written before
///   forwarding is turned on and removed after it is turned off.
///
/// The host-wide sysctls are kept in the host record (``UplinkRecord/host()``),
/// whose users are the routed domains; they are put back with the last one.
extension KernelHostNet {
    /// The nftables table (family `ip6`) that limits forwarding to pvd's own traffic.
    static let forwardFilterTable = "pvd"

    /// Whether forwarding is turned on per interface (`force_forwarding`)
    /// rather than for the whole namespace.
    var perInterfaceForwarding: Bool {
        forwarding == .automatic && Sysctl.exists(Sysctl.ipv6("all", "force_forwarding"))
    }

    /// Makes `domain` a user of the host-wide settings: with the first
    /// routed domain (and for each new one, to cover interfaces that came
    /// since), `accept_ra` 1 becomes 2 everywhere.
    func applyHostSettings(_ domain: String, _ transaction: Transaction) throws(SystemError) {
        let record = try UplinkRecord.host()
        guard !record.uses(domain) else { return }
        var acceptRA: [String: String] = [:]
        for name in ["default"] + LinkMonitor.interfaceNames() where Sysctl.exists(Sysctl.ipv6(name, "accept_ra")) {
            acceptRA[name] = try Sysctl.read(Sysctl.ipv6(name, "accept_ra"))
        }
        try set(DomainPlan.hostSettings(acceptRA: acceptRA), recordedIn: record, user: domain, transaction)
    }

    /// Proxy NDP without delay on the uplink, and forwarding limited to it and
    /// the veths: the filter first, then the flags
    /// (``DomainPlan/uplinkSettings(_:acceptRA:perInterfaceForwarding:)``).
    ///
    /// The kernel answers a Neighbor Solicitation for a proxied address only
    /// when the interface's own `forwarding` flag is set (ndisc_recv_ns checks
    /// it; `force_forwarding` only lets ip6_forward pass packets), so the uplink
    /// gets `forwarding=1` in either mode. `proxy_delay` 0: otherwise the
    /// kernel holds the first proxied answer up to 0.8 s.
    func applyUplinkSysctls(_ uplink: String, domain: String, _ transaction: Transaction) throws(SystemError) {
        let record = try UplinkRecord(uplink)
        if !record.hasUsers() {
            let inUse = try UplinkRecord.uplinksInUse()
            try writeForwardFilter(uplinks: inUse + [uplink], replacing: inUse, transaction)
        }
        if !perInterfaceForwarding { try applyGlobalForwarding(domain: domain, transaction) }
        let settings = DomainPlan.uplinkSettings(
            uplink, acceptRA: try Sysctl.read(Sysctl.ipv6(uplink, "accept_ra")), perInterfaceForwarding: perInterfaceForwarding)
        try set(settings, recordedIn: record, user: domain, transaction)
    }

    /// `all.forwarding` 1, recorded in the host record. Writing it sets every
    /// interface's own `forwarding` flag (and `default`'s), and writing 0 back
    /// clears them all, so each one's own value is recorded with it, before
    /// the uplink's own flag is set, and put back after it: an interface the
    /// host forwarded on by itself still does after pvd.
    private func applyGlobalForwarding(domain: String, _ transaction: Transaction) throws(SystemError) {
        let all = Sysctl.ipv6("all", "forwarding")
        var own: [String: String] = [:]
        if try Sysctl.read(all) == "0" {
            for name in ["default"] + LinkMonitor.interfaceNames() where DomainPlan.isHostInterface(name) {
                let flag = Sysctl.ipv6(name, "forwarding")
                if Sysctl.exists(flag) { own[flag] = try Sysctl.read(flag) }
            }
            try transaction.step(
                "keep sysctls", "each interface's own forwarding flag", {}, undo: { () throws(SystemError) in try KernelHostNet.writeSysctls(own) })
        }
        try set([(all, "1")], recordedIn: try UplinkRecord.host(), user: domain, alsoRecording: own, transaction)
    }

    /// Writes recorded values back (those whose interface still exists), in
    /// ``DomainPlan/restoreOrder(_:)``.
    static func writeSysctls(_ values: [String: String]) throws(SystemError) {
        for (path, value) in DomainPlan.restoreOrder(values) where Sysctl.exists(path) {
            try Sysctl.write(path, value)
        }
    }

    /// Writes the filter for `uplinks`; undone by writing it for `previous`
    /// (none: the table goes).
    private func writeForwardFilter(uplinks: [String], replacing previous: [String], _ transaction: Transaction) throws(SystemError) {
        try transaction.step(
            "set nftables table", "ip6 \(KernelHostNet.forwardFilterTable) for \(uplinks.joined(separator: ", "))",
            { () throws(SystemError) in try KernelHostNet.setForwardFilter(uplinks: uplinks) },
            undo: { () throws(SystemError) in try KernelHostNet.setForwardFilter(uplinks: previous) })
    }

    /// Writes the table for `uplinks`, or deletes it when there are none.
    static func setForwardFilter(uplinks: [String]) throws(SystemError) {
        guard !uplinks.isEmpty else { return try deleteForwardFilter() }
        try Nftables.run(
            try forwardFilterScript(uplinks: uplinks, hostForwards: try hostForwardedBeforePvd()),
            step: "set nftables table", object: "ip6 \(forwardFilterTable)")
    }

    /// Whether this namespace forwarded IPv6 before pvd: `all.forwarding` as
    /// it was before pvd set it (per-interface `force_forwarding` that pvd did
    /// not set is not counted).
    private static func hostForwardedBeforePvd() throws(SystemError) -> Bool {
        let key = Sysctl.ipv6("all", "forwarding")
        if let original = try UplinkRecord.host().originals()[key] { return original != "0" }
        return try Sysctl.read(key) != "0"
    }

    /// The whole `ip6 pvd` table, replacing any earlier one in one nft transaction.
    static func forwardFilterScript(uplinks: [String], hostForwards: Bool) throws(SystemError) -> String {
        for uplink in uplinks where !Nftables.isPlainInterfaceName(uplink) {
            throw SystemError(
                step: "set nftables table", object: "ip6 \(forwardFilterTable)",
                reason: "the uplink's name \(uplink) cannot be written in an nftables rule")
        }
        let set = "{ " + uplinks.map { "\"\($0)\"" }.joined(separator: ", ") + " }"
        let veths = "\"\(DomainNaming.hostLinkPrefix)*\""
        return """
            table ip6 \(forwardFilterTable) {}
            delete table ip6 \(forwardFilterTable)
            table ip6 \(forwardFilterTable) {
              chain forward {
                type filter hook forward priority filter; policy \(hostForwards ? "accept" : "drop");
                iifname \(veths) oifname \(set) accept
                iifname \(set) oifname \(veths) accept
                iifname \(veths) drop
                oifname \(veths) drop
              }
            }
            """
    }

    static func deleteForwardFilter() throws(SystemError) {
        try Nftables.run(
            "table ip6 \(forwardFilterTable) {}\ndelete table ip6 \(forwardFilterTable)",
            step: "delete nftables table", object: "ip6 \(forwardFilterTable)")
    }

    /// After `domains` went: forgets them as users of the host record and
    /// brings the filter in line with the uplinks still in use; after the last
    /// routed domain, puts the host-wide sysctls back, then removes the filter.
    static func releaseHost(domains: Set<String>, uplinksFreed: Bool) throws(SystemError) {
        let record = try UplinkRecord.host()
        for domain in domains.sorted() { try record.removeUser(domain) }
        let inUse = try UplinkRecord.uplinksInUse()
        guard !record.hasUsers(), inUse.isEmpty else {
            if uplinksFreed { try setForwardFilter(uplinks: inUse) }
            return
        }
        try writeSysctls(record.originals())
        try record.delete()
        try deleteForwardFilter()
    }

    /// Writes the filter again when domains use uplinks (say, after a
    /// firewall reload flushed the ruleset while pvdd was not running).
    public func restoreForwardFilter() throws(SystemError) {
        let inUse = try UplinkRecord.uplinksInUse()
        guard !inUse.isEmpty else { return }
        try KernelHostNet.setForwardFilter(uplinks: inUse)
    }

    /// The interfaces that have a default route learnt from RAs.
    func interfacesWithLearntDefaultRoutes() throws(SystemError) -> Set<Int32> {
        Set(
            try host.routes(table: UInt32(RT_TABLE_MAIN.rawValue))
                .filter { $0.destination.length == 0 && $0.source == nil && $0.origin == UInt8(RTPROT_RA) }.map(\.interfaceIndex))
    }

    /// Solicits routers on each interface that had a learnt default route in
    /// `before` and has none now.
    func solicitWhereRoutesWereLost(_ before: Set<Int32>) throws(SystemError) {
        guard !before.isEmpty, let solicitRouters else { return }
        for index in before.subtracting(try interfacesWithLearntDefaultRoutes()).sorted() {
            if let link = try host.link(index: index) { solicitRouters(link.name) }
        }
    }

    /// The uplinks with IPv4 of their own: an address outside 169.254.0.0/16
    /// and a default route out of them in the main table.
    public func ipv4Uplinks() throws(SystemError) -> Set<String> {
        var uplinks: Set<String> = []
        let indexes = Set(try host.ipv4Addresses().filter { !($0.octets[0] == 169 && $0.octets[1] == 254) }.map(\.interfaceIndex))
        for index in indexes.sorted() where try host.hasIPv4DefaultRoute(interfaceIndex: index) {
            if let link = try host.link(index: index) { uplinks.insert(link.name) }
        }
        return uplinks
    }
}
