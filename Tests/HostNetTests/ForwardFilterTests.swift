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

/// Another table's forward chain that drops by default, as `nft list chains` shows it.
struct ForwardDropChainTests {
    @Test func findsOtherTablesForwardDropChains() {
        let listing = """
            table ip6 pvd {
            \tchain forward {
            \t\ttype filter hook forward priority filter; policy drop;
            \t}
            }
            table inet filter {
            \tchain input {
            \t\ttype filter hook input priority filter; policy drop;
            \t}
            \tchain forward {
            \t\ttype filter hook forward priority filter; policy drop;
            \t}
            \tchain output {
            \t\ttype filter hook output priority filter; policy accept;
            \t}
            }
            table ip filter {
            \tchain FORWARD {
            \t\ttype filter hook forward priority filter; policy drop;
            \t}
            }
            table ip6 filter {
            \tchain FORWARD {
            \t\ttype filter hook forward priority filter; policy accept;
            \t}
            }
            """
        #expect(ForwardDropChain.parse(listing) == [ForwardDropChain(family: "inet", table: "filter", chain: "forward")])
        #expect(
            ForwardDropChain.parse(listing, ipv4: true).map(\.description) == [
                "nftables table inet filter (chain forward, policy drop)", "nftables table ip filter (chain FORWARD, policy drop)",
            ])
        #expect(ForwardDropChain.parse("").isEmpty)
    }
}
