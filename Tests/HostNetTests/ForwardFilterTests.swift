import PvDCore
import PvDWire
import Testing

@testable import HostNet

/// The forward filter's nft script, checked without root.
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
}
