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
            "domains[0].colour: unknown key; known: addresses, attachment, dns, mtu, name, on_link, ports, routers, routes, search, uplink"
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

/// `ports:` of a static domain and of pvdd.yaml, read and checked.
struct PublishedPortTests {
    func ports(_ text: String) throws -> [PublishedPort] { try PublishedPort.list(try YAMLDocument.parse(text), at: "ports") }

    @Test func entriesReadWithTheirDefaultsAndPrintBack() throws {
        let read = try ports("[{host: 8080, domain: 80}, {host: 5353, domain: 53, protocol: udp, from: [host, \"2001:db8:1::/64\", 192.0.2.0/24]}]")
        #expect(read[0] == PublishedPort(hostPort: 8080, domainPort: 80))
        #expect(read[1].transport == .udp && read[1].fromHost && read[1].fromIPv6 == [IPv6Prefix("2001:db8:1::/64")!])
        #expect(read[1].fromIPv4.map(\.description) == ["192.0.2.0/24"])
        #expect(try PublishedPort.list(.array(read.map(\.json)), at: "ports") == read)
        let spec = try #require(try DeclarativeState(try YAMLDocument.parse("domains: [{name: a, uplink: eth0, ports: [{host: 1, domain: 2}]}]")).domains.first)
        #expect(spec.ports == [PublishedPort(hostPort: 1, domainPort: 2)])
        #expect(try DomainSpec(json: spec.json) == spec)
        let plain = DomainSpec(name: "b", uplink: "eth0", addresses: [], routers: [])
        #expect(plain.json["ports"] == nil, "written only when there are any")
    }

    @Test(arguments: [
        ("[{host: 8080}]", "ports[0]: a port needs \"host\" and \"domain\" (port numbers)"),
        ("[{host: 0, domain: 80}]", "ports[0].host: must be a port number, 1 to 65535"),
        ("[{host: 8080, domain: 70000}]", "ports[0].domain: must be a port number, 1 to 65535"),
        ("[{host: 8080, domain: 80, protocol: sctp}]", "ports[0].protocol: is tcp or udp, not sctp"),
        ("[{host: 8080, domain: 80, from: []}]", "ports[0].from: names 1 to 32 sources: host, IPv6 or IPv4 prefixes"),
        ("[{host: 8080, domain: 80, from: [lan]}]", "ports[0].from[0]: \"lan\" is not host, an IPv6 prefix (2001:db8::/64) or an IPv4 prefix (192.0.2.0/24)"),
        (
            "[{host: 8080, domain: 80, from: [192.0.2.1/24]}]",
            "ports[0].from[0]: \"192.0.2.1/24\" is not host, an IPv6 prefix (2001:db8::/64) or an IPv4 prefix (192.0.2.0/24)"
        ),
        ("[{host: 8080, domain: 80, from: [\"fe80::/64\"]}]", "ports[0].from[0]: fe80::/64 is link-local or multicast: clients come from routable addresses"),
        ("[{host: 8080, domain: 80}, {host: 8080, domain: 81}]", "ports[1].host: tcp port 8080 is published twice"),
        ("[{host: 8080, domain: 80, colour: red}]", "ports[0].colour: unknown key; known: domain, from, host, protocol"),
    ])
    func badEntriesNameTheKey(text: String, problem: String) {
        #expect(throws: ConfigurationError.self) { try ports(text) }
        do { _ = try ports(text) } catch { #expect("\(error)" == problem) }
    }

    @Test func aDeclaredStateWithPortsPrintsBackAsItself() throws {
        let state = try DeclarativeState(try YAMLDocument.parse("domains: [{name: a, uplink: eth0, ports: [{host: 1, domain: 2, from: [\"2001:db8::/64\"]}]}]"))
        #expect(try DeclarativeState(try YAMLDocument.parse(state.yaml)) == state)
    }

    @Test func pvdPublishReadsHostColonDomainPorts() {
        #expect(PublishedPort(mapping: "8080:80") == PublishedPort(hostPort: 8080, domainPort: 80))
        #expect(PublishedPort(mapping: "53:5353/udp")?.transport == .udp)
        for bad in ["8080", "0:80", "8080:80/sctp", "8080:70000", ":80", "a:b"] { #expect(PublishedPort(mapping: bad) == nil, "\(bad)") }
    }

    @Test func dropInsPublishPortsOncePerDomain() throws {
        let files = try ConfigurationFiles(
            main: ("/etc/pvd/pvdd.yaml", "ports: {corp: [{host: 1, domain: 2}]}"),
            dropIns: [("/etc/pvd/domains.d/ports-lab.yaml", "ports: {lab: [{host: 3, domain: 4}]}")])
        #expect(files.settings.ports.keys.sorted() == ["corp", "lab"])
        #expect(throws: ConfigurationError.self) {
            try ConfigurationFiles(
                main: ("/etc/pvd/pvdd.yaml", "ports: {corp: [{host: 1, domain: 2}]}"),
                dropIns: [("/etc/pvd/domains.d/ports-corp.yaml", "ports: {corp: [{host: 3, domain: 4}]}")])
        }
    }

    @Test func pvddYAMLPublishesByDomainName() throws {
        let settings = try DaemonConfiguration(try YAMLDocument.parse("ports: {corp: [{host: 8080, domain: 80}]}"))
        #expect(settings.ports["corp"] == [PublishedPort(hostPort: 8080, domainPort: 80)])
        #expect(throws: ConfigurationError.self) { try DaemonConfiguration(try YAMLDocument.parse("ports: {../x: [{host: 1, domain: 2}]}")) }
    }
}
