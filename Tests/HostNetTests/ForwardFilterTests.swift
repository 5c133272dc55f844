import PvDCore
import PvDWire
import Testing

@testable import HostNet

/// What HostNet writes for the kernel without touching it: the forward
/// filter's nft script and the policy rules, checked without root.
struct ForwardFilterTests {
    @Test func aHostThatDidNotForwardDropsEverythingElse() throws {
        let script = try KernelHostNet.forwardFilterScript(uplinks: ["up0", "wlan0"], hostForwards: false)
        #expect(script.hasPrefix("table ip6 pvd {}\ndelete table ip6 pvd\n"), "replaces any earlier table in one transaction")
        #expect(script.contains("type filter hook forward priority filter; policy drop;"))
        #expect(script.contains("iifname \"pvh*\" oifname { \"up0\", \"wlan0\" } accept"))
        #expect(script.contains("iifname { \"up0\", \"wlan0\" } oifname \"pvh*\" accept"))
        #expect(script.contains("iifname \"pvh*\" drop") && script.contains("oifname \"pvh*\" drop"))
    }

    @Test func aRouterKeepsRoutingButNotThroughPvdsLinks() throws {
        let script = try KernelHostNet.forwardFilterScript(uplinks: ["up0"], hostForwards: true)
        #expect(script.contains("policy accept;"))
        #expect(script.contains("iifname \"pvh*\" drop"), "pvd's veths reach their uplinks only")
    }

    @Test func anUplinkNameNftCannotQuoteIsRefused() {
        #expect(throws: SystemError.self) { _ = try KernelHostNet.forwardFilterScript(uplinks: ["up\"0"], hostForwards: false) }
        #expect(!Nftables.isPlainInterfaceName("a b") && Nftables.isPlainInterfaceName("eth0.100"))
    }

    @Test func eachAddressLooksUpItsUplinksTable() throws {
        let naming = try DomainNaming(name: "corp", slot: 5)
        let rules = KernelHostNet.lookupRules(
            [(0, [IPv6Address("2001:db8:1::5")!]), (1, [IPv6Address("2001:db8:2::5")!])], naming: naming)
        #expect(rules.map(\.action) == [.lookup(naming.table(uplink: 0)), .lookup(naming.table(uplink: 1))])
        #expect(rules.allSatisfy { $0.inputInterface == naming.hostLink && $0.priority == naming.rulePriority })
        #expect(rules.map { $0.source?.length } == [128, 128])
    }
}
