import PvDWire
import TestSupport
import Testing

@testable import PvDCore

/// RAs for the table tests, built as values (their wire form is PvDWire's business).
enum RA {
    static func router(_ last: UInt16) -> IPv6Address { IPv6Address(high: 0xFE80_0000_0000_0000, low: UInt64(last)) }
    static func prefix(_ text: String) -> IPv6Prefix { IPv6Prefix(text)! }

    static func options(
        prefix: String?, valid: UInt32 = 3600, dns: String? = nil, search: String? = nil,
        route: String? = nil, mtu: UInt32? = nil
    ) -> [NDOption] {
        var options: [NDOption] = []
        if let prefix {
            options.append(
                .prefixInformation(
                    PrefixInformation(
                        prefix: RA.prefix(prefix), validLifetime: valid,
                        preferredLifetime: min(valid, 1800))))
        }
        if let dns { options.append(.recursiveDNSServers(RecursiveDNSServers(lifetime: 600, servers: [IPv6Address(dns)!]))) }
        if let search { options.append(.dnsSearchList(DNSSearchList(lifetime: 600, domains: [try! DomainName(search)]))) }
        if let route { options.append(.routeInformation(RouteInformation(prefix: RA.prefix(route), lifetime: 900))) }
        if let mtu { options.append(.mtu(mtu)) }
        return options
    }

    static func plain(lifetime: UInt16 = 1800, _ options: [NDOption]) -> RouterAdvertisement {
        RouterAdvertisement(header: RouterAdvertisementHeader(routerLifetime: lifetime), options: options)
    }

    static func pvd(
        _ id: String, sequence: UInt16 = 1, lifetime: UInt16 = 1800, legacy: Bool = false,
        _ options: [NDOption]
    ) -> RouterAdvertisement {
        let pvd = PvDOption(id: try! DomainName(id), legacy: legacy, sequence: sequence, options: options)
        return RouterAdvertisement(header: RouterAdvertisementHeader(routerLifetime: lifetime), options: [.provisioningDomain(pvd)])
    }
}

struct DomainTableTests {
    let secret: [UInt8] = [7, 7, 7]

    @Test func plainRAMakesAnImplicitDomain() throws {
        var table = DomainTable(secret: secret)
        let changed = table.observe(
            RA.plain(
                RA.options(
                    prefix: "2001:db8:1::/64", dns: "2001:db8:1::53", search: "home.example",
                    route: "2001:db8:100::/48", mtu: 1480)),
            from: RA.router(1), on: "eth0", at: 0)
        #expect(changed == ["eth0-fe80-0-1"])
        let spec = try #require(table.specs(at: 0).first)
        #expect((try? DomainNaming.validate(spec.name)) != nil, "\(spec.name) is a valid domain name")
        #expect(spec.uplink == "eth0")
        #expect(spec.routers == [RA.router(1)])
        #expect(spec.addresses == [StableAddress.address(in: RA.prefix("2001:db8:1::/64"), domain: spec.name, secret: secret)])
        #expect(spec.onLinkPrefixes == [RA.prefix("2001:db8:1::/64")])
        #expect(spec.routes == [RA.prefix("2001:db8:100::/48")])
        #expect(spec.dnsServers == [IPv6Address("2001:db8:1::53")!])
        #expect(spec.searchDomains == [try DomainName("home.example")])
        #expect(spec.mtu == 1480)
    }

    @Test func implicitNamesAreReadableAndValid() throws {
        let name = DomainTable.name(for: .implicit(interface: "eth0", router: IPv6Address("fe80::dca2:11ff:fe42:156c")!))
        #expect(name == "eth0-fe80-0-dca2-11ff-fe42-156c")
        try DomainNaming.validate(name)
        try DomainNaming.validate(DomainTable.name(for: .implicit(interface: "Wi-Fi.0", router: RA.router(1))))
        #expect(DomainTable.name(for: .explicit(try DomainName("Corp.Example.COM"))) == "corp.example.com")
    }

    @Test func aliasesNameExplicitDomainsAndAttachmentsFollowTheUplink() throws {
        var table = DomainTable(secret: secret, aliases: ["corp": try DomainName("corp.example.com")], attachments: ["eth1": .macvlan])
        #expect(
            table.observe(RA.pvd("CORP.example.com", RA.options(prefix: "2001:db8:2::/64")), from: RA.router(2), on: "eth1", at: 0)
                == ["corp"])
        _ = table.observe(RA.pvd("other.example.com", RA.options(prefix: "2001:db8:3::/64")), from: RA.router(3), on: "eth0", at: 0)
        let specs = table.specs(at: 0)
        #expect(specs.map(\.name) == ["corp", "other.example.com"])
        #expect(specs.map(\.attachment) == [.macvlan, .routed])
        #expect(specs[0].addresses == [StableAddress.address(in: RA.prefix("2001:db8:2::/64"), domain: "corp", secret: secret)])
    }

    @Test func publishedPortsGoToRoutedDomainsOfThatName() throws {
        var table = DomainTable(secret: secret, attachments: ["eth1": .macvlan])
        let web = PublishedPort(hostPort: 8080, domainPort: 80)
        table.publishedPorts = ["corp.example.com": [web], "lab.example.com": [web]]
        _ = table.observe(RA.pvd("corp.example.com", RA.options(prefix: "2001:db8:2::/64")), from: RA.router(2), on: "eth0", at: 0)
        _ = table.observe(RA.pvd("lab.example.com", RA.options(prefix: "2001:db8:3::/64")), from: RA.router(3), on: "eth1", at: 0)
        _ = table.observe(RA.pvd("other.example.com", RA.options(prefix: "2001:db8:4::/64")), from: RA.router(4), on: "eth0", at: 0)
        #expect(table.specs(at: 0).map(\.ports) == [[web], [], []], "corp; not lab, a macvlan domain the host does not route for; not other")
    }

    @Test func oneExplicitDomainFromTwoRouters() throws {
        var table = DomainTable(secret: secret)
        _ = table.observe(RA.pvd("corp.example.com", RA.options(prefix: "2001:db8:2::/64")), from: RA.router(2), on: "eth0", at: 0)
        _ = table.observe(RA.pvd("Corp.Example.COM", RA.options(prefix: "2001:db8:3::/64")), from: RA.router(3), on: "eth0", at: 0)
        let specs = table.specs(at: 0)
        #expect(specs.map(\.name) == ["corp.example.com"])
        #expect(specs[0].routers == [RA.router(2), RA.router(3)])
        #expect(specs[0].addresses.count == 2)
    }

    @Test func oneExplicitDomainOnTwoUplinks() throws {
        var table = DomainTable(secret: secret, addressProbeTime: 1)
        _ = table.observe(
            RA.pvd("corp.example.com", RA.options(prefix: "2001:db8:2::/64", dns: "2001:db8:2::53")),
            from: RA.router(2), on: "eth0", at: 0)
        // The same prefix heard on a second link stays the first link's.
        _ = table.observe(RA.pvd("corp.example.com", RA.options(prefix: "2001:db8:2::/64")), from: RA.router(3), on: "wlan0", at: 0)
        _ = table.observe(
            RA.pvd("corp.example.com", RA.options(prefix: "2001:db8:3::/64", dns: "2001:db8:3::53")),
            from: RA.router(3), on: "wlan0", at: 0)
        let address2 = StableAddress.address(in: RA.prefix("2001:db8:2::/64"), domain: "corp.example.com", secret: secret)
        let address3 = StableAddress.address(in: RA.prefix("2001:db8:3::/64"), domain: "corp.example.com", secret: secret)
        let probes = table.takeProbes()
        #expect(probes == ["eth0": [address2], "wlan0": [address3]], "each address is probed on its own link")
        _ = table.expire(at: 1)
        let spec = try #require(table.specs(at: 1).first)
        #expect(table.specs(at: 1).count == 1)
        #expect(spec.uplink == "eth0")
        #expect(spec.addresses == [address2])
        #expect(spec.routers == [RA.router(2)])
        #expect(
            spec.otherUplinks == [
                UplinkSpec(
                    uplink: "wlan0", addresses: [address3], routers: [RA.router(3)],
                    onLinkPrefixes: [RA.prefix("2001:db8:2::/64"), RA.prefix("2001:db8:3::/64")])
            ])
        #expect(spec.allAddresses == [address2, address3])
        #expect(spec.dnsServers == [IPv6Address("2001:db8:2::53")!, IPv6Address("2001:db8:3::53")!])

        // eth0's router goes: the domain carries on through wlan0.
        _ = table.observe(
            RA.pvd(
                "corp.example.com", lifetime: 0,
                [
                    .prefixInformation(
                        PrefixInformation(
                            prefix: RA.prefix("2001:db8:2::/64"), validLifetime: 0, preferredLifetime: 0))
                ]), from: RA.router(2), on: "eth0", at: 2)
        let after = try #require(table.specs(at: 2).first)
        #expect(after.uplink == "eth0" && after.routers.isEmpty && after.addresses.isEmpty)
        #expect(after.otherUplinks.map(\.routers) == [[RA.router(3)]])

        var implicit = DomainTable(secret: secret)
        _ = implicit.observe(RA.plain(RA.options(prefix: "2001:db8:1::/64")), from: RA.router(1), on: "eth0", at: 0)
        _ = implicit.observe(RA.plain(RA.options(prefix: "2001:db8:1::/64")), from: RA.router(1), on: "wlan0", at: 0)
        #expect(implicit.specs(at: 0).allSatisfy { $0.otherUplinks.isEmpty }, "implicit PvDs are one per link")
    }

    @Test func implicitDomainsAreNeverMerged() {
        var table = DomainTable(secret: secret)
        _ = table.observe(RA.plain(RA.options(prefix: "2001:db8:1::/64")), from: RA.router(1), on: "eth0", at: 0)
        _ = table.observe(RA.plain(RA.options(prefix: "2001:db8:1::/64")), from: RA.router(4), on: "eth0", at: 0)
        _ = table.observe(RA.plain(RA.options(prefix: "2001:db8:1::/64")), from: RA.router(1), on: "eth1", at: 0)
        _ = table.observe(RA.pvd("corp.example.com", RA.options(prefix: "2001:db8:1::/64")), from: RA.router(1), on: "eth0", at: 0)
        #expect(table.specs(at: 0).count == 4)
    }

    @Test func routerLifetimeZeroWithdrawsThatRouterOnly() {
        var table = DomainTable(secret: secret)
        _ = table.observe(RA.pvd("corp.example.com", RA.options(prefix: "2001:db8:2::/64")), from: RA.router(2), on: "eth0", at: 0)
        _ = table.observe(RA.pvd("corp.example.com", RA.options(prefix: "2001:db8:3::/64")), from: RA.router(3), on: "eth0", at: 0)
        let changed = table.observe(RA.pvd("corp.example.com", lifetime: 0, []), from: RA.router(2), on: "eth0", at: 1)
        #expect(changed == ["corp.example.com"])
        let spec = table.specs(at: 1)[0]
        #expect(spec.routers == [RA.router(3)])
        #expect(
            spec.addresses == [StableAddress.address(in: RA.prefix("2001:db8:3::/64"), domain: "corp.example.com", secret: secret)],
            "RFC 8028: R2's prefix's address goes with R2, whose prefix no other router advertises")
        #expect(spec.onLinkPrefixes.count == 2, "R2's prefix is still on the link until its valid lifetime runs out")
    }

    @Test func eachAddressLeavesThroughTheRoutersOfItsPrefix() throws {
        var table = DomainTable(secret: secret)
        func address(_ prefix: String) -> IPv6Address {
            StableAddress.address(in: RA.prefix(prefix), domain: "corp.example.com", secret: secret)
        }
        let shared = RA.options(prefix: "2001:db8:4::/64")
        _ = table.observe(RA.pvd("corp.example.com", RA.options(prefix: "2001:db8:2::/64") + shared), from: RA.router(2), on: "eth0", at: 0)
        _ = table.observe(RA.pvd("corp.example.com", RA.options(prefix: "2001:db8:3::/64") + shared), from: RA.router(3), on: "eth0", at: 0)
        var spec = try #require(table.spec(named: "corp.example.com", at: 0))
        #expect(spec.routers == [RA.router(2), RA.router(3)])
        #expect(Set(spec.addresses) == [address("2001:db8:2::/64"), address("2001:db8:3::/64"), address("2001:db8:4::/64")])
        #expect(
            spec.nextHops == [address("2001:db8:2::/64"): [RA.router(2)], address("2001:db8:3::/64"): [RA.router(3)]],
            "a prefix both advertise uses both; the others only their own router")
        #expect(spec.routers(from: address("2001:db8:4::/64")) == [RA.router(2), RA.router(3)])

        _ = table.observe(RA.pvd("corp.example.com", lifetime: 0, []), from: RA.router(2), on: "eth0", at: 1)
        spec = try #require(table.spec(named: "corp.example.com", at: 1))
        #expect(Set(spec.addresses) == [address("2001:db8:3::/64"), address("2001:db8:4::/64")], "R2's own prefix went with it")
        #expect(spec.nextHops.isEmpty, "R3 alone is every router")

        _ = table.observe(RA.pvd("corp.example.com", RA.options(prefix: "2001:db8:2::/64") + shared), from: RA.router(2), on: "eth0", at: 2)
        #expect(table.spec(named: "corp.example.com", at: 2)?.addresses.count == 3, "back with its router")
    }

    @Test func dnsKeepsTheRoutersOrderAndRefusesUnusableServers() throws {
        var table = DomainTable(secret: secret)
        let servers = ["2001:db8::b", "2001:db8::a", "ff02::1", "::", "::1", "fe80::53"].map { IPv6Address($0)! }
        func ra(_ first: [IPv6Address], _ search: [String]) throws -> RouterAdvertisement {
            RA.plain(
                RA.options(prefix: "2001:db8:1::/64") + [
                    .recursiveDNSServers(RecursiveDNSServers(lifetime: 600, servers: first)),
                    .recursiveDNSServers(RecursiveDNSServers(lifetime: 600, servers: [IPv6Address("2001:db8::c")!])),
                    .dnsSearchList(DNSSearchList(lifetime: 600, domains: try search.map { try DomainName($0) })),
                ])
        }
        _ = table.observe(try ra(servers, ["z.example", "a.example"]), from: RA.router(1), on: "eth0", at: 0)
        var spec = try #require(table.specs(at: 0).first)
        #expect(spec.dnsServers.map(\.description) == ["2001:db8::b", "2001:db8::a", "2001:db8::c"], "option order, then order in the option")
        #expect(spec.searchDomains.map(\.description) == ["z.example", "a.example"])
        #expect(table.counters.refusedDNSServers == 4, "multicast, unspecified, loopback and link-local")
        #expect(spec.resolvConf.contains("nameserver 2001:db8::b\nnameserver 2001:db8::a\nnameserver 2001:db8::c\nsearch z.example a.example\n"))

        _ = table.observe(try ra([IPv6Address("2001:db8::a")!, IPv6Address("2001:db8::b")!], ["a.example"]), from: RA.router(1), on: "eth0", at: 1)
        spec = try #require(table.specs(at: 1).first)
        #expect(spec.dnsServers.map(\.description) == ["2001:db8::a", "2001:db8::b", "2001:db8::c"], "the latest RA's order")
        #expect(spec.searchDomains.map(\.description) == ["a.example", "z.example"], "entries it did not repeat stay, after")
    }

    @Test func linkLocalMulticastAndUnspecifiedPrefixesAndRoutesAreRefused() throws {
        var table = DomainTable(secret: secret)
        let bad = ["fe80::/64", "ff02::/64", "::/64", "::/0"].flatMap { RA.options(prefix: $0) }
        let badRoutes = ["fe80::/10", "ff00::/8"].flatMap { RA.options(prefix: nil, route: $0) }
        _ = table.observe(
            RA.plain(RA.options(prefix: "2001:db8:1::/64", route: "::/0") + bad + badRoutes), from: RA.router(1), on: "eth0", at: 0)
        let spec = try #require(table.specs(at: 0).first)
        #expect(spec.onLinkPrefixes.map(\.description) == ["2001:db8:1::/64"])
        #expect(spec.addresses.count == 1 && spec.addresses[0].description.hasPrefix("2001:db8:1:"))
        #expect(spec.routes.map(\.description) == ["::/0"], "a default route in a Route Information option is fine")
        #expect(table.counters.refusedPrefixes == 6)
        #expect(!DomainTable.isUsablePrefix(RA.prefix("::ffff:0:0/96")) && DomainTable.isUsablePrefix(RA.prefix("2001:db8::/64")))
    }

    @Test func ipv4FollowsTheUplinksOwnIPv4() throws {
        var table = DomainTable(secret: secret)
        _ = table.observe(RA.plain(RA.options(prefix: "2001:db8:1::/64")), from: RA.router(1), on: "eth0", at: 0)
        let name = try #require(table.specs(at: 0).first).name
        #expect(table.spec(named: name, at: 0)?.ipv4 == false, "an IPv6-only uplink: no IPv4 for its domains")
        #expect(table.setIPv4Uplinks(["eth1"], at: 1).isEmpty)
        #expect(table.setIPv4Uplinks(["eth0", "eth1"], at: 2) == [name])
        #expect(table.spec(named: name, at: 2)?.ipv4 == true)
        #expect(table.setIPv4Uplinks(["eth1"], at: 3) == [name], "the uplink lost its IPv4")
        #expect(table.spec(named: name, at: 3)?.ipv4 == false)
    }

    @Test func newSequenceReplacesOldIsIgnored() {
        var table = DomainTable(secret: secret)
        _ = table.observe(RA.pvd("corp.example.com", sequence: 5, RA.options(prefix: "2001:db8:2::/64")), from: RA.router(2), on: "eth0", at: 0)
        _ = table.observe(RA.pvd("corp.example.com", sequence: 6, RA.options(prefix: "2001:db8:4::/64")), from: RA.router(3), on: "eth0", at: 1)
        var spec = table.specs(at: 1)[0]
        #expect(spec.onLinkPrefixes == [RA.prefix("2001:db8:4::/64")], "sequence 6 replaced everything")
        #expect(spec.routers == [RA.router(3)])
        #expect(
            table.observe(
                RA.pvd("corp.example.com", sequence: 5, RA.options(prefix: "2001:db8:2::/64")),
                from: RA.router(2), on: "eth0", at: 2
            ).isEmpty)
        spec = table.specs(at: 2)[0]
        #expect(spec.onLinkPrefixes == [RA.prefix("2001:db8:4::/64")], "the older sequence number was ignored")
        #expect(DomainTable.isNewer(0, than: 65535))
        #expect(!DomainTable.isNewer(65535, than: 0))
        #expect(!DomainTable.isNewer(7, than: 7))
    }

    @Test func legacyFlagChoosesTheIPv4Domain() {
        var table = DomainTable(secret: secret)
        _ = table.setIPv4Uplinks(["eth0"], at: 0)
        _ = table.observe(RA.plain(RA.options(prefix: "2001:db8:1::/64")), from: RA.router(1), on: "eth0", at: 0)
        let implicitName = table.specs(at: 0)[0].name
        #expect(table.ipv4Domains(on: "eth0") == [implicitName], "no L flag: the implicit PvD")
        #expect(table.spec(named: implicitName, at: 0)?.ipv4 == true)
        let legacyArrives = table.observe(
            RA.pvd("corp.example.com", legacy: true, RA.options(prefix: "2001:db8:2::/64")),
            from: RA.router(2), on: "eth0", at: 0)
        #expect(table.ipv4Domains(on: "eth0") == ["corp.example.com"])
        #expect(table.ipv4Domains(on: "eth1").isEmpty)
        #expect(legacyArrives == ["corp.example.com", implicitName], "the implicit domain's IPv4 moves to corp")
        #expect(table.spec(named: "corp.example.com", at: 0)?.ipv4 == true)
        #expect(table.spec(named: implicitName, at: 0)?.ipv4 == false)

        let legacyGoes = table.observe(
            RA.pvd("corp.example.com", sequence: 2, legacy: false, RA.options(prefix: "2001:db8:2::/64")),
            from: RA.router(2), on: "eth0", at: 1)
        #expect(legacyGoes == ["corp.example.com", implicitName], "without the L flag, IPv4 goes back")
        #expect(table.spec(named: implicitName, at: 1)?.ipv4 == true)

        var macvlan = DomainTable(secret: secret, attachments: ["eth0": .macvlan])
        _ = macvlan.setIPv4Uplinks(["eth0"], at: 0)
        _ = macvlan.observe(RA.plain(RA.options(prefix: "2001:db8:1::/64")), from: RA.router(1), on: "eth0", at: 0)
        #expect(macvlan.specs(at: 0).first?.ipv4 == false, "a macvlan domain is on the link itself: no NAT")
    }

    @Test func ipv4PassesOnWhenItsDomainExpires() {
        var table = DomainTable(secret: secret, gracePeriod: 0)
        _ = table.setIPv4Uplinks(["eth0"], at: 0)
        _ = table.observe(RA.plain(RA.options(prefix: "2001:db8:1::/64")), from: RA.router(1), on: "eth0", at: 0)
        _ = table.observe(
            RA.pvd("corp.example.com", lifetime: 10, legacy: true, RA.options(prefix: "2001:db8:2::/64", valid: 10)),
            from: RA.router(2), on: "eth0", at: 0)
        let implicitName = "eth0-fe80-0-1"
        #expect(table.spec(named: implicitName, at: 0)?.ipv4 == false)
        let expired = table.expire(at: 11)
        #expect(expired == ["corp.example.com", implicitName])
        #expect(table.spec(named: implicitName, at: 11)?.ipv4 == true)
    }

    @Test func floodsStayWithinLimits() {
        var limits = DomainLimits()
        limits.maximumDomains = 16
        var table = DomainTable(limits: limits, secret: secret)
        var random = SystemRandomNumberGenerator()
        var time: Seconds = 0
        for index in 0..<20_000 {
            time += 0.0005
            let router = RA.router(UInt16(truncatingIfNeeded: index % 20 + 1))  // 100 RAs/s from each source
            let id = "x\(UInt32.random(in: 0 ... .max, using: &random)).example"
            let prefix = "2001:db8:\(String(index % 65000, radix: 16))::/64"
            _ = table.observe(RA.pvd(id, RA.options(prefix: prefix)), from: router, on: "eth0", at: time)
        }
        #expect(table.domains.count <= 16)
        #expect(table.counters.refusedDomains > 0)
        #expect(table.counters.rateLimitedRAs > 0)
        // A legitimate PvD gets in once the flooded domains expire and their grace period ends.
        _ = table.expire(at: time + 4000)
        _ = table.expire(at: time + 4000 + table.gracePeriod)
        #expect(table.domains.isEmpty)
        #expect(
            table.observe(
                RA.pvd("corp.example.com", RA.options(prefix: "2001:db8:2::/64")), from: RA.router(2000),
                on: "eth0", at: time + 5000) == ["corp.example.com"])
    }

    @Test func oneSourceIsRateLimited() {
        var limits = DomainLimits()
        limits.routerAdvertisementsPerSecond = 5
        limits.routerAdvertisementBurst = 5
        var table = DomainTable(limits: limits, secret: secret)
        for step in 0..<100 {
            _ = table.observe(RA.plain(RA.options(prefix: "2001:db8:1::/64")), from: RA.router(1), on: "eth0", at: Seconds(step) * 0.01)
        }
        #expect(table.counters.rateLimitedRAs >= 89, "at most 5 + 5/s × 1 s admitted")
    }

    @Test func prefixesPerDomainAreBounded() {
        var limits = DomainLimits()
        limits.maximumPrefixesPerDomain = 4
        var table = DomainTable(limits: limits, secret: secret)
        let options = (0..<10).flatMap { RA.options(prefix: "2001:db8:\($0)::/64") }
        _ = table.observe(RA.plain(options), from: RA.router(1), on: "eth0", at: 0)
        #expect(table.specs(at: 0)[0].addresses.count == 4)
        #expect(table.counters.refusedEntries == 6)
    }

    @Test func pushAppliesAndRemovesThroughTheFake() {
        var table = DomainTable(secret: secret, gracePeriod: 5)
        let host = InMemoryHostNet()
        var changed = table.observe(
            RA.pvd("corp.example.com", lifetime: 10, RA.options(prefix: "2001:db8:2::/64", valid: 10)),
            from: RA.router(2), on: "eth0", at: 0)
        #expect(table.push(changed, to: host, at: 0).isEmpty)
        #expect(host.applied["corp.example.com"]?.addresses.count == 1)
        host.failNextApply = ["corp.example.com"]
        changed = table.expire(at: 10)
        #expect(table.push(changed, to: host, at: 10)["corp.example.com"] != nil, "a failure is reported by name")
        #expect(table.push(changed, to: host, at: 10).isEmpty)
        #expect(host.applied["corp.example.com"]?.addresses == [])
        changed = table.expire(at: 15)
        #expect(table.push(changed, to: host, at: 15).isEmpty)
        #expect(host.applied.isEmpty)
    }
}
