import PvDConfig
import PvDCore
import PvDWire
import Testing

struct DeclarativeStateTests {
    let text = """
        domains:
          - name: lab
            uplink: eth0
            addresses: ["2001:db8:9::5"]
            routers: [fe80::1]
            dns: ["2001:db8:9::53"]
            search: [lab.example]
          - {name: other, uplink: eth1, mtu: 1400}
        vpns:
          - {name: corp-vpn, openvpn: /etc/pvd/corp.ovpn}
        namespaces: [testns]
        """

    func state(_ text: String) throws -> DeclarativeState { try DeclarativeState(try YAMLDocument.parse(text)) }

    @Test func readsAndWritesTheSameState() throws {
        let declared = try state(text)
        #expect(declared.domains.map(\.name) == ["lab", "other"])
        #expect(declared.domains[0].addresses == [IPv6Address("2001:db8:9::5")!])
        #expect(declared.domains[1].mtu == 1400)
        #expect(declared.namespaces == ["testns"])
        #expect(declared.vpns == [DeclarativeState.VPN(name: "corp-vpn", client: .openVPN, config: "/etc/pvd/corp.ovpn")])
        #expect(try state(declared.yaml) == declared, "show --yaml prints what apply takes back:\n\(declared.yaml)")
        #expect(try state("") == DeclarativeState())
    }

    @Test(arguments: [
        ("domains: {}", "domains: must be a list"),
        (
            "domains: [{name: a, uplink: eth0, colour: blue}]",
            "domains[0].colour: unknown key; known: addresses, attachment, dns, mtu, name, on_link, routers, routes, search, uplink"
        ),
        ("domains: [{name: a}]", "domains[0]: a domain needs \"name\" and \"uplink\""),
        (
            "domains: [{name: a, uplink: eth0, addresses: [nope]}]",
            "domains[0].addresses: \"nope\" is not an IPv6 address (a domain's own, without a prefix length: 2001:db8::5)"
        ),
        ("domains: [{name: ../x, uplink: eth0}]", "domains[0].name: \"../x\" is not a domain name: use a-z, 0-9, '.', '-', '_', not starting with '.' or '-'"),
        ("domains: [{name: a, uplink: eth0}]\nnamespaces: [a]", "namespaces[0]: a is declared twice"),
        ("tunnels: []", "tunnels: unknown key; known: domains, namespaces, vpns"),
        ("vpns: [{name: v}]", "vpns[0]: a VPN domain needs \"name\" and one of \"openvpn\", \"wireguard\", \"openconnect\", \"command\""),
        ("vpns: [{name: v, openvpn: corp.ovpn}]", "vpns[0].openvpn: must be an absolute path"),
        ("vpns: [{name: v, openvpn: /a}]\nnamespaces: [v]", "namespaces[0]: v is declared twice"),
    ])
    func badStatesNameTheKey(text: String, problem: String) {
        #expect(throws: ConfigurationError.self) { try state(text) }
        do { _ = try state(text) } catch { #expect("\(error)" == problem) }
    }

    @Test func changesRemoveThenChangeThenAdd() throws {
        let current = try state(text)
        let target = try state(
            """
            domains:
              - {name: lab, uplink: eth0, addresses: ["2001:db8:9::6"]}
              - {name: new, uplink: eth0}
            vpns:
              - {name: corp-vpn, openvpn: /etc/pvd/other.ovpn}
            namespaces: [testns, more]
            """)
        #expect(
            current.changes(to: target).map(\.description) == [
                "remove domain other", "remove VPN domain corp-vpn", "change domain lab", "add domain new",
                "add VPN domain corp-vpn", "add namespace more",
            ])
        #expect(target.changes(to: target).isEmpty)
    }
}
