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

/// Published ports: the table's nft script, checked without root.
struct PortsTableTests {
    let web = PublishedPort(
        hostPort: 8080, domainPort: 80, fromHost: true, fromIPv6: [IPv6Prefix("2001:db8:1::/64")!],
        fromIPv4: [TunnelSettings.IPv4Prefix(octets: [192, 0, 2, 0], length: 24)])

    @Test func theLANAndTheHostReachTheDomainPortOnly() throws {
        let script = try #require(
            KernelHostNet.portsScript(table: "pvd_ports_pvh0001", ports: [web], ipv6: IPv6Address("2001:db8:1::5"), ipv4: [169, 254, 64, 3]))
        #expect(script.hasPrefix("table inet pvd_ports_pvh0001 {}\ndelete table inet pvd_ports_pvh0001\n"), "replaced in one transaction")
        let lines = script.split(separator: "\n").map { $0.trimmingPrefix(while: { $0 == " " }) }
        for rule in [
            "iifname != \"pvh*\" fib daddr type local ip6 saddr { 2001:db8:1::/64 } tcp dport 8080 dnat ip6 to [2001:db8:1::5]:80",
            "fib daddr type local ip6 daddr != ::1 tcp dport 8080 dnat ip6 to [2001:db8:1::5]:80",
            "iifname != \"pvh*\" fib daddr type local ip saddr { 192.0.2.0/24 } tcp dport 8080 dnat ip to 169.254.64.3:80",
            "fib daddr type local ip daddr != 127.0.0.0/8 tcp dport 8080 dnat ip to 169.254.64.3:80",
        ] {
            #expect(lines.contains { $0 == rule }, "\(rule)")
        }
        #expect(!script.contains(text: "accept\n    "), "no rule accepts anything")
    }

    @Test func aPortForTheHostOnlyHasNoLANRuleAndNothingToPublishHasNoTable() throws {
        let hostOnly = PublishedPort(hostPort: 5353, domainPort: 53, transport: .udp)
        let script = try #require(KernelHostNet.portsScript(table: "t", ports: [hostOnly], ipv6: IPv6Address("2001:db8:1::5"), ipv4: nil))
        #expect(!script.contains(text: "saddr") && script.contains(text: "udp dport 5353 dnat ip6 to [2001:db8:1::5]:53"))
        #expect(KernelHostNet.portsScript(table: "t", ports: [], ipv6: IPv6Address("2001:db8:1::5"), ipv4: nil) == nil)
        #expect(KernelHostNet.portsScript(table: "t", ports: [web], ipv6: nil, ipv4: nil) == nil, "a domain without an address")
    }
}
