import PvDWire
import Testing

@testable import PvDCore

struct DomainTableStateTests {
    let secret: [UInt8] = [1, 2, 3]

    func sampleTable() -> DomainTable {
        var table = DomainTable(secret: secret)
        _ = table.observe(
            RA.plain(
                RA.options(
                    prefix: "2001:db8:1::/64", dns: "2001:db8:1::53", search: "home.example",
                    route: "2001:db8:100::/48", mtu: 1480)), from: RA.router(1), on: "eth0", at: 100)
        _ = table.observe(
            RA.pvd(
                "corp.example.com", sequence: 9, legacy: true,
                RA.options(prefix: "2001:db8:2::/64", valid: .max, dns: "2001:db8:2::53")), from: RA.router(2), on: "eth0", at: 101)
        _ = table.observe(
            RA.pvd("corp.example.com", sequence: 9, lifetime: 0, legacy: true, RA.options(prefix: "2001:db8:3::/64")),
            from: RA.router(3), on: "eth0", at: 102)
        return table
    }

    @Test func stateRoundTripsThroughJSONText() throws {
        let table = sampleTable()
        let text = table.state.serialized
        let restored = try DomainTable(state: try JSONValue.parse(Array(text.utf8)), secret: secret)
        #expect(restored.specs(at: 200) == table.specs(at: 200))
        #expect(restored.state == table.state)
        #expect(restored.ipv4Domains(on: "eth0") == ["corp.example.com"])
        #expect(restored.nextExpiry() == table.nextExpiry())
    }

    @Test func dnsOrderSurvivesTheStateFile() throws {
        var table = DomainTable(secret: secret)
        let servers = ["2001:db8::9", "2001:db8::1", "2001:db8::5"].map { IPv6Address($0)! }
        _ = table.observe(
            RA.plain(RA.options(prefix: "2001:db8:1::/64") + [.recursiveDNSServers(RecursiveDNSServers(lifetime: 600, servers: servers))]),
            from: RA.router(1), on: "eth0", at: 0)
        let restored = try DomainTable(state: try JSONValue.parse(Array(table.state.serialized.utf8)), secret: secret)
        #expect(restored.specs(at: 1).first?.dnsServers == servers)
    }

    @Test func restoredTableGoesOnExpiring() throws {
        var table = try DomainTable(state: sampleTable().state, secret: secret, gracePeriod: 10)
        _ = table.expire(at: 1850)
        #expect(table.spec(named: "eth0-fe80-0-1", at: 1850)?.addresses.count == 1)
        #expect(table.spec(named: "corp.example.com", at: 1850)?.addresses.count == 1)
        _ = table.expire(at: 5000)
        #expect(table.spec(named: "eth0-fe80-0-1", at: 5000)?.addresses == [])
        #expect(
            table.spec(named: "corp.example.com", at: 5000)?.onLinkPrefixes.contains(IPv6Prefix("2001:db8:2::/64")!) == true,
            "the infinite prefix stays")
        #expect(table.spec(named: "corp.example.com", at: 5000)?.addresses == [], "its router is no default router any more (RFC 8028)")
    }

    @Test(arguments: [#"{"version": 2, "domains": []}"#, #"{"version": 1}"#])
    func statesOfAnotherShapeAreRefused(text: String) throws {
        let state = try JSONValue.parse(Array(text.utf8))
        #expect(throws: StateError.self) { try DomainTable(state: state, secret: secret) }
    }

    @Test(arguments: [
        (#"{"key": {"explicit": "a..b"}, "name": "a..b"}"#, "domains[0].key.explicit"),
        (#"{"key": {"explicit": "corp.example"}, "name": "corp", "uplink": 7, "h": false, "l": false, "routers": []}"#, "domains[0].uplink"),
        (#"{"key": {"interface": "eth0", "router": "nope"}, "name": "x"}"#, "domains[0].key.router"),
        (
            #"{"key": {"explicit": "corp.example"}, "name": "corp", "uplink": "eth0", "h": false, "l": false, "sequence": 70000, "routers": []}"#,
            "domains[0].sequence"
        ),
        (#"{"key": {"explicit": "corp"}, "name": "corp", "uplink": "eth0", "h": false, "l": false, "routers": []}"#, "domains[0]: corp"),
        (#"{"key": {"explicit": "a/b.example"}, "name": "x", "uplink": "eth0", "h": false, "l": false, "routers": []}"#, "domains[0]: a/b.example"),
        (#"{"key": {"explicit": "corp.example"}, "name": "x", "uplink": "../../etc", "h": false, "l": false, "routers": []}"#, "domains[0].uplink"),
    ])
    func badEntriesAreDroppedWithAReason(entry: String, reason: String) throws {
        let good = #"{"key": {"explicit": "good.example"}, "name": "good.example", "uplink": "eth0", "h": false, "l": false, "routers": []}"#
        let state = try JSONValue.parse(Array(#"{"version": 1, "domains": [\#(entry), \#(good)]}"#.utf8))
        var reasons: [String] = []
        let table = try DomainTable(state: state, secret: secret) { reasons.append($0.description) }
        #expect(table.domains.values.map(\.name) == ["good.example"], "the good entry after the bad one stays")
        #expect(reasons.count == 1 && reasons[0].hasPrefix(reason), "\(reasons)")
    }

    @Test func aRenamedAliasRenamesTheRestoredDomain() throws {
        let aliases = ["corp": try DomainName("corp.example.com")]
        let restored = try DomainTable(state: sampleTable().state, secret: secret, aliases: aliases)
        #expect(restored.specs(at: 200).map(\.name) == ["corp", "eth0-fe80-0-1"])
        let back = try DomainTable(state: restored.state, secret: secret)
        #expect(back.specs(at: 200).map(\.name) == ["corp.example.com", "eth0-fe80-0-1"])
    }

    @Test func savedStatesObeyTheLimits() throws {
        var limits = DomainLimits()
        limits.maximumDomains = 1
        let restored = try DomainTable(state: sampleTable().state, limits: limits, secret: secret)
        #expect(restored.domains.count == 1)
    }
}
