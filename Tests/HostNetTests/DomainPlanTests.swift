import PvDCore
import PvDWire
import Testing

@testable import HostNet

/// HostNet's plan for a domain, worked out from the wanted state and what the
/// kernel has, without root.
struct DomainPlanTests {
    let up0 = KernelLink(index: 2, name: "up0", isUp: true, mtu: 1500, peerIndex: 0)
    let up1 = KernelLink(index: 3, name: "up1", isUp: true, mtu: 1500, peerIndex: 0)
    let a = IPv6Address("2001:db8:1::5")!
    let b = IPv6Address("2001:db8:2::5")!
    let c = IPv6Address("2001:db8:1::9")!

    @Test func aNewDomainGetsEveryAddressRouteAndProxy() {
        let plan = DomainPlan.addresses(wanted: [a: up0, b: up1], present: [], hostRoutes: [], proxiedOn: [:])
        #expect(plan.remove.isEmpty)
        #expect(plan.add == [a, b])
        #expect(plan.hostRoutes == [a, b])
        #expect(plan.proxies.map { "\($0.address) \($0.from?.name ?? "-") \($0.to.name)" } == ["\(a) - up0", "\(b) - up1"])
    }

    @Test func anAppliedDomainNeedsNothing() {
        let plan = DomainPlan.addresses(wanted: [a: up0], present: [a], hostRoutes: [a], proxiedOn: [a: up0])
        #expect(plan == DomainPlan.Addresses())
    }

    @Test func aGoneAddressLeavesWithItsProxyAndRouteAndAMovedOneChangesUplink() {
        let plan = DomainPlan.addresses(wanted: [a: up1], present: [a, c], hostRoutes: [a, c], proxiedOn: [a: up0, c: up0])
        #expect(plan.remove.map { "\($0.address) \($0.proxiedOn?.name ?? "-") \($0.hostRoute)" } == ["\(c) up0 true"])
        #expect(plan.add.isEmpty && plan.hostRoutes.isEmpty)
        #expect(plan.proxies.map { "\($0.address) \($0.from?.name ?? "-") \($0.to.name)" } == ["\(a) up0 up1"])
    }

    @Test func routesCompareWithoutTheOrderOfTheirGateways() {
        let r1 = IPv6Address("fe80::11")!
        let r2 = IPv6Address("fe80::12")!
        let anywhere = IPv6Prefix("::/0")!
        let present = [KernelRoute(destination: anywhere, table: 1000, interfaceIndex: 2, gateways: [r2, r1])]
        let wanted = [KernelRoute(destination: anywhere, table: 1000, interfaceIndex: 2, gateways: [r1, r2])]
        #expect(DomainPlan.routeChanges(wanted: wanted, present: present).isEmpty)
        let other = [KernelRoute(destination: anywhere, table: 1000, interfaceIndex: 2, gateways: [r1])]
        let changes = DomainPlan.routeChanges(wanted: other, present: present)
        #expect(changes.delete == present && changes.add == other)
    }

    @Test func anUplinksTableHasItsPrefixesItsRoutersAndPerSourceDefaults() {
        let r1 = IPv6Address("fe80::11")!
        let r2 = IPv6Address("fe80::12")!
        let part = UplinkPart(
            index: 0, link: up0, addresses: [a, c], routers: [r1, r2], onLinkPrefixes: [IPv6Prefix("2001:db8:1::/64")!],
            nextHops: [a: [r1], IPv6Address("2001:db8:9::1")!: [r2]])
        let routes = DomainPlan.tableRoutes(part, table: 1005)
        #expect(routes.count == 3, "the next hops of an address the domain does not have are left out")
        #expect(routes[0] == KernelRoute(destination: IPv6Prefix("2001:db8:1::/64")!, table: 1005, interfaceIndex: 2, gateways: []))
        #expect(routes[1] == KernelRoute(destination: IPv6Prefix("::/0")!, table: 1005, interfaceIndex: 2, gateways: [r1, r2]))
        #expect(routes[2].source == IPv6Prefix(address: a, length: 128) && routes[2].gateways == [r1], "RFC 8028: from a via the router that advertised it")
    }

    @Test func eachAddressLooksUpItsUplinksTableAndTheRestIsDropped() throws {
        let naming = try DomainNaming(name: "corp", slot: 5)
        let rules = DomainPlan.rules(addressesByUplink: [(0, [a]), (1, [b])], naming: naming)
        #expect(rules.map(\.action) == [.lookup(naming.table(uplink: 0)), .lookup(naming.table(uplink: 1)), .blackhole])
        #expect(rules.allSatisfy { $0.inputInterface == naming.hostLink })
        #expect(rules.map(\.priority) == [naming.rulePriority, naming.rulePriority, naming.dropRulePriority])
        #expect(rules.map { $0.source?.length } == [128, 128, nil])
        let changes = DomainPlan.ruleChanges(wanted: Array(rules.dropFirst()), present: rules)
        #expect(changes.delete == [rules[0]] && changes.add.isEmpty)
    }

    @Test func insideTheDomainEverythingGoesViaTheHost() throws {
        let spec = DomainSpec(name: "corp", uplink: "up0", addresses: [a], routers: [], routes: [IPv6Prefix("2001:db8:ff::/48")!])
        let routes = DomainPlan.insideRoutes(spec, domainLink: 7)
        #expect(routes.map(\.destination.description) == ["::/0", "2001:db8:ff::/48"])
        #expect(routes.allSatisfy { $0.gateways == [DomainNaming.hostLinkLocal] && $0.interfaceIndex == 7 && $0.table == DomainPlan.mainTable })
    }

    @Test func anUplinkProxiesForwardsAndKeepsItsRouters() {
        let perInterface = DomainPlan.uplinkSettings("up0", acceptRA: "1", perInterfaceForwarding: true)
        #expect(
            perInterface.map { "\($0.0)=\($0.1)" } == [
                "/proc/sys/net/ipv6/conf/up0/proxy_ndp=1", "/proc/sys/net/ipv6/neigh/up0/proxy_delay=0",
                "/proc/sys/net/ipv6/conf/up0/accept_ra=2", "/proc/sys/net/ipv6/conf/up0/forwarding=1",
                "/proc/sys/net/ipv6/conf/up0/force_forwarding=1",
            ])
        let global = DomainPlan.uplinkSettings("up0", acceptRA: "0", perInterfaceForwarding: false)
        #expect(!global.contains { $0.0.hasSuffix("accept_ra") }, "an uplink that ignores RAs is left so")
        #expect(!global.contains { $0.0.hasSuffix("force_forwarding") })
    }

    @Test func theHostKeepsAcceptingRAsEverywhereButOnPvdsLinks() {
        let settings = DomainPlan.hostSettings(acceptRA: ["default": "1", "eth0": "1", "wlan0": "2", "eth1": "0", "lo": "1", "pvh0005": "1"])
        #expect(settings.map(\.0) == ["/proc/sys/net/ipv6/conf/default/accept_ra", "/proc/sys/net/ipv6/conf/eth0/accept_ra"])
        #expect(settings.allSatisfy { $0.1 == "2" })
    }

    @Test func onlySysctlsThatDifferAreWrittenWithTheirOldValues() {
        let writes = DomainPlan.sysctlWrites([("x", "1"), ("y", "0"), ("z", "2")], current: ["x": "0", "y": "0", "z": "1"])
        #expect(writes.map { "\($0.key) \($0.old)->\($0.new)" } == ["x 0->1", "z 1->2"])
    }

    @Test func allForwardingIsPutBackBeforeEachInterfacesOwnFlag() {
        let order = DomainPlan.restoreOrder([
            "/proc/sys/net/ipv6/conf/aa0/forwarding": "1", "/proc/sys/net/ipv6/conf/all/forwarding": "0",
            "/proc/sys/net/ipv6/conf/default/accept_ra": "1",
        ])
        #expect(
            order.map { "\($0.0)=\($0.1)" } == [
                "/proc/sys/net/ipv6/conf/all/forwarding=0", "/proc/sys/net/ipv6/conf/aa0/forwarding=1",
                "/proc/sys/net/ipv6/conf/default/accept_ra=1",
            ])
        #expect(DomainPlan.restoreOrder(["b": "1", "a": "2"]).map(\.0) == ["a", "b"])
    }
}

struct PingGroupRangeTests {
    @Test func aDomainOpensICMPEchoAsTheHostDoesOrAsSystemdDoes() {
        #expect(DomainPlan.pingGroupRange(host: "0\t2147483647\n") == "0 2147483647")
        #expect(DomainPlan.pingGroupRange(host: "100\t200\n") == "100 200")
        #expect(DomainPlan.pingGroupRange(host: "1\t0\n") == "0 2147483647", "the kernel's closed default")
        #expect(DomainPlan.pingGroupRange(host: "") == "0 2147483647")
    }
}
