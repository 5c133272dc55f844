import PvDWire
import Testing

@testable import PvDCore

/// What an on-link node can name, and what a state file can hold: names of
/// different origins never meet, and a bad entry is dropped, never trusted.
struct HostileNamesAndStateTests {
    let secret: [UInt8] = [4, 2]

    @Test(arguments: ["up0-fe80-0-11", "corp", "a_b", "x"])
    func aPvDIDOfOneLabelIsRefused(id: String) {
        var table = DomainTable(secret: secret, aliases: ["corp": try! DomainName("corp.example.com")])
        #expect(table.observe(RA.pvd(id, RA.options(prefix: "2001:db8:9::/64")), from: RA.router(9), on: "up0", at: 0).isEmpty)
        #expect(table.domains.isEmpty)
        #expect(table.counters.refusedPvDs == 1)
    }

    /// Valid DNS names (RFC 8801 allows any octet in a label) that no domain can be named.
    static let unusableIDs: [DomainName] = [
        "-dash.example", "a/b.example", "a\u{0}b.example", "*.example",
        [String](repeating: String(repeating: "a", count: 63), count: 3).joined(separator: ".") + "." + String(repeating: "d", count: 50),
    ].map { try! DomainName($0) }

    @Test(arguments: unusableIDs)
    func aPvDIDThatCannotNameADomainTakesNoSlot(name: DomainName) throws {
        var table = DomainTable(secret: secret)
        let id = name.description
        let ra = RouterAdvertisement(
            header: RouterAdvertisementHeader(routerLifetime: 1800),
            options: [.provisioningDomain(PvDOption(id: name, sequence: 1, options: RA.options(prefix: "2001:db8:9::/64")))])
        #expect(table.observe(ra, from: RA.router(9), on: "up0", at: 0).isEmpty)
        #expect(table.domains.isEmpty, "\(id) was kept")
        #expect(table.counters.refusedPvDs == 1)
    }

    @Test func reservedNamesAndTakenNamesAreNeverTaken() {
        var table = DomainTable(secret: secret)
        table.reservedNames = ["lab.example.com", "up0-fe80-0-11"]
        #expect(table.observe(RA.pvd("lab.example.com", RA.options(prefix: "2001:db8:9::/64")), from: RA.router(9), on: "up0", at: 0).isEmpty)
        #expect(table.observe(RA.plain(RA.options(prefix: "2001:db8:1::/64")), from: RA.router(0x11), on: "up0", at: 0).isEmpty)
        #expect(table.domains.isEmpty)
        #expect(table.counters.refusedPvDs == 2)
        // Two interfaces whose names clean to the same: the first keeps it.
        _ = table.observe(RA.plain(RA.options(prefix: "2001:db8:1::/64")), from: RA.router(1), on: "eth.0", at: 0)
        _ = table.observe(RA.plain(RA.options(prefix: "2001:db8:2::/64")), from: RA.router(1), on: "eth_0", at: 0)
        #expect(table.domains.values.map(\.uplink) == ["eth.0"])
    }

    @Test func aliasesAndChosenNamesStayApart() {
        #expect(DomainNaming.refusal(ofAlias: "corp") == nil)
        #expect(DomainNaming.refusal(ofAlias: "corp.lab") != nil, "an alias with a dot could be a PvD ID")
        #expect(DomainNaming.refusal(ofAlias: "up0-fe80-0-11") != nil)
        #expect(throws: DomainNameRuleError.self) { try DomainNaming.validateChosen("up0-fe80-0-11") }
        #expect(throws: DomainNameRuleError.self) { try DomainNaming.validateChosen("rootns") }
        #expect(throws: DomainNameRuleError.self) { try DomainNaming.validateChosen("../../etc") }
        #expect(throws: ConfigurationError.self) {
            try DaemonConfiguration(.object([JSONMember("aliases", .object([JSONMember("corp.lab", .string("corp.example.com"))]))]))
        }
    }

    func saved(_ text: String) -> SavedState {
        SavedState(bytes: Array(text.utf8), empty: DomainTable(secret: secret))
    }

    @Test(arguments: [
        (#"{"static_domains": [{"name": "../../etc/passwd", "uplink": "eth0"}]}"#, "static_domains[0]"),
        (#"{"static_domains": [{"name": "lab", "uplink": "eth0", "mtu": 9e99}]}"#, "static_domains[0].mtu"),
        (#"{"namespaces": ["../../tmp/x"]}"#, "namespaces[0]"),
        (#"{"namespaces": [7]}"#, "namespaces[0]"),
        (#"{"namespaces": ["rootns"]}"#, "namespaces[0]"),
        (#"{"vpn_domains": [{"name": "home", "openvpn": "/etc/h.conf", "pid": 9999999999}]}"#, "vpn_domains[0].pid"),
        (#"{"vpn_domains": [{"name": "home", "openvpn": "/etc/h.conf", "pid": 1}]}"#, "vpn_domains[0].pid"),
        (#"{"vpn_domains": [{"name": "home", "openvpn": "relative.conf"}]}"#, "vpn_domains[0].openvpn"),
        (#"{"vpn_domains": [{"name": "../x", "openvpn": "/etc/h.conf"}]}"#, "vpn_domains[0]"),
        (#"{"namespaces": ["dup"], "static_domains": [{"name": "dup", "uplink": "eth0"}]}"#, "namespaces[0]"),
        (#"[1, 2, 3"#, "not JSON"),
        (#"{"version": 7, "domains": []}"#, "learnt domains"),
    ])
    func aBadEntryIsDroppedWithItsPath(text: String, path: String) {
        let state = saved(text)
        #expect(state.dropped.contains { $0.hasPrefix(path) }, "\(state.dropped)")
        #expect(state.statics.allSatisfy { (try? DomainNaming.validateChosen($0.name)) != nil })
        #expect(state.namespaces.allSatisfy { (try? DomainNaming.validateChosen($0)) != nil })
        #expect(state.vpns.allSatisfy { $0.pid.map { $0 >= 2 } ?? true })
    }

    @Test func goodEntriesSurviveBesideBadOnes() {
        let state = saved(
            #"""
            {"version": 1, "domains": [],
             "static_domains": [{"name": "lab", "uplink": "eth0", "mtu": null}, {"name": "../x", "uplink": "eth0"}],
             "namespaces": ["scratch"], "vpn_domains": [{"name": "home", "openvpn": "/etc/pvd/home.conf", "pid": 4242}]}
            """#)
        #expect(state.statics.map(\.name) == ["lab"], "a static domain without an MTU (saved as null) survives")
        #expect(state.namespaces == ["scratch"])
        #expect(state.vpns == [SavedState.VPN(name: "home", client: .openVPN, config: "/etc/pvd/home.conf", pid: 4242)])
        #expect(state.dropped.count == 1)
    }

    @Test func aStaticNameKeepsALearntDomainOut() throws {
        let table = DomainTable(secret: secret)
        var learnt = table
        _ = learnt.observe(RA.pvd("lab.example.com", RA.options(prefix: "2001:db8:9::/64")), from: RA.router(9), on: "eth0", at: 0)
        var members: [JSONMember] = []
        if case .object(let tableMembers) = learnt.state { members = tableMembers }
        members.append(
            JSONMember("static_domains", .array([.object([JSONMember("name", .string("lab.example.com")), JSONMember("uplink", .string("eth0"))])])))
        let state = SavedState(bytes: Array(JSONValue.object(members).serialized.utf8), empty: table)
        #expect(state.statics.map(\.name) == ["lab.example.com"])
        #expect(state.table.domains.isEmpty, "the learnt domain of the same name was dropped")
        #expect(state.dropped.count == 1)
    }
}
