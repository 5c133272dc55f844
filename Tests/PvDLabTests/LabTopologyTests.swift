import PvDCore
import PvDWire
import Testing

@testable import PvDLab

/// `pvd lab`'s topology and what `up` makes of it, without a kernel.
struct LabTopologyTests {
    static let twoRouters = #"""
        {"name": "duo", "links": ["lan"], "upstream": ["2001:db8:ff::1"],
         "routers": [
           {"name": "r1", "link": "lan", "address": "2001:db8:1::1/64", "dns": {"address": "2001:db8:1::53", "hosts": {"server.lab": "2001:db8:ff::1"}},
            "announce": {"outside": {"prefixes": ["2001:db8:1::/64"]}}},
           {"name": "r2", "link": "lan", "address": "2001:db8:2::1/64", "dns": {"address": "2001:db8:2::53"},
            "announce": {"pvds": [{"id": "corp.example.com", "prefixes": ["2001:db8:2::/64", "2001:db8:3::/64"], "info": {"address": "2001:db8:2::80"}}]}}],
         "hosts": [{"name": "host", "link": "lan", "pvdd": {"aliases": {"corp": "corp.example.com"}}}, {"name": "plain", "link": "lan"}],
         "vpns": [{"name": "corp", "server": "2001:db8:ff::10", "host": "host", "search": "corp.test", "hosts": {"intranet.corp.test": "10.8.0.1"}}]}
        """#

    func topology(_ text: String = twoRouters) throws -> LabTopology {
        try LabTopology(json: try JSONValue.parse(Array(text.utf8)))
    }

    func plan() throws -> LabPlan {
        try topology().plan(now: 1_800_000_000, tools: LabTools(pvd: "/usr/bin/pvd", pvdd: "/usr/sbin/pvdd"))
    }

    @Test func everyNamespaceCarriesTheLabsName() throws {
        let lab = try topology()
        #expect(lab.namespaces == ["duo-links", "duo-upstream", "duo-r1", "duo-r2", "duo-host", "duo-plain"])
        #expect(lab.directory == "/run/pvd-lab/duo")
    }

    @Test func nothingRunsInTheHostsOwnNamespace() throws {
        let plan = try plan()
        let namespaces = Set(try topology().namespaces)
        for command in plan.commands {
            switch command[0] {
            case "ip" where command[1] == "-n": #expect(namespaces.contains(command[2]), "\(command)")
            case "ip" where command[1] == "netns": #expect(namespaces.contains(command[3]), "\(command)")
            case "openssl", "openvpn":
                let files = command.enumerated().filter { $0.offset == 0 || command[$0.offset - 1] != "-subj" }.map(\.element)
                #expect(files.allSatisfy { !$0.hasPrefix("/") || $0.hasPrefix("/run/pvd-lab/duo/") }, "only the lab's own files: \(command)")
            default: Issue.record("a command outside the lab: \(command)")
            }
        }
        #expect(plan.programs.allSatisfy { namespaces.contains($0.namespace) })
        #expect(plan.files.allSatisfy { $0.path.hasPrefix("/run/pvd-lab/duo/") })
        #expect(plan.commands.contains(["ip", "-n", "duo-links", "link", "add", "lan", "type", "bridge"]), "the bridge is in the lab's switch namespace")
    }

    @Test func theUpstreamRoutesEveryPrefixOfARouterBackToIt() throws {
        let commands = try plan().commands
        for prefix in ["2001:db8:2::/64", "2001:db8:3::/64"] {
            #expect(commands.contains(["ip", "-n", "duo-upstream", "-6", "route", "add", prefix, "via", "fe80::1", "dev", "r2"]))
        }
        #expect(
            commands.contains(["ip", "-n", "duo-r2", "-6", "route", "add", "2001:db8:3::/64", "dev", "lan"]), "an announced prefix beyond its own is on-link")
        #expect(commands.contains(["ip", "-n", "duo-r2", "addr", "add", "2001:db8:2::80/128", "dev", "lan", "nodad"]), "the information server's address")
    }

    @Test func aPvDsInformationIsTheLabsDocumentCertificateAndKey() throws {
        let plan = try plan()
        let router = try topology().routers[1]
        let server = try #require(router.announcement.pvds[0].information)
        #expect(server.file == "/run/pvd-lab/duo/info/r2-corp.example.com.json" && server.address == IPv6Address("2001:db8:2::80"))
        let document = try #require(plan.files.first { $0.path == server.file })
        let information = try PvDAdditionalInformation.parse(Array(document.contents.utf8))
        #expect(information.identifier.description == "corp.example.com" && information.expires > 1_800_000_000)
        #expect(information.prefixes.map(\.description) == ["2001:db8:2::/64", "2001:db8:3::/64"])
        #expect(plan.commands.contains { $0.contains("-out") && $0.contains(server.certificate) })
        let dns = try #require(plan.programs.first { $0.name == "r2-dns" })
        #expect(dns.arguments.contains("--host-record=corp.example.com,2001:db8:2::80"), "the PvD ID resolves to its information server")
        let announce = try #require(plan.files.first { $0.path == "/run/pvd-lab/duo/announce-r2.json" })
        #expect(try RouterAnnouncement(json: try JSONValue.parse(Array(announce.contents.utf8))) == router.announcement)
    }

    @Test func whatADocumentAddsIsWrittenIntoIt() throws {
        let text = Self.twoRouters.replacing(
            text: #""info": {"address": "2001:db8:2::80"}"#,
            with: #""info": {"address": "2001:db8:2::80", "document": {"dnsZones": ["corp.test"], "noInternet": true, "x-note": 1}}"#)
        let lab = try topology(text)
        let plan = lab.plan(now: 1_800_000_000, tools: LabTools(pvd: "/usr/bin/pvd", pvdd: "/usr/sbin/pvdd"))
        let server = try #require(lab.routers[1].announcement.pvds[0].information)
        let document = try PvDAdditionalInformation.parse(Array(try #require(plan.files.first { $0.path == server.file }).contents.utf8))
        #expect(document.dnsZones.map(\.description) == ["corp.test"] && document.noInternet)
        #expect(document.otherKeys.map(\.key) == ["x-note"])
    }

    @Test func aPvddHostHasItsBusItsConfigurationAndItsVPN() throws {
        let plan = try plan()
        let configuration = try #require(plan.files.first { $0.path == "/run/pvd-lab/duo/host/pvdd.yaml" })
        let json = try JSONValue.parse(Array(configuration.contents.utf8))
        let daemon = try DaemonConfiguration(json)
        #expect(daemon.uplinks == ["lan"] && daemon.statePath == "/run/pvd-lab/duo/host/state.json")
        #expect(daemon.aliases["corp"]?.description == "corp.example.com")
        #expect(json["vpns"] == .array([.object([JSONMember("name", .string("corp")), JSONMember("openvpn", .string("/run/pvd-lab/duo/vpn-corp.conf"))])]))
        let pvdd = try #require(plan.programs.first { $0.name == "host-pvdd" })
        #expect(pvdd.namespace == "duo-host" && pvdd.environment["DBUS_SYSTEM_BUS_ADDRESS"] == "unix:path=/run/pvd-lab/duo/host/bus.socket")
        let bus = try #require(plan.programs.firstIndex { $0.name == "host-bus" })
        #expect(bus < plan.programs.firstIndex { $0.name == "host-pvdd" }!, "the bus is there before pvdd")
        let client = try #require(plan.files.first { $0.path == "/run/pvd-lab/duo/vpn-corp.conf" })
        #expect(client.mode == 0o600 && client.contents.contains("remote 2001:db8:ff::10 1194") && client.contents.contains("dhcp-option DOMAIN corp.test"))
        #expect(!plan.programs.contains { $0.namespace == "duo-plain" }, "a PvD-unaware host runs nothing")
    }

    @Test func mistakesAreNamedByTheirKey() throws {
        for (text, problem) in [
            (#"{"links": []}"#, "name: a lab needs a name"),
            (#"{"name": "Duo"}"#, "name: \"Duo\""),
            (#"{"name": "pvd"}"#, "name: \"pvd\""),
            (#"{"name": "duo", "links": ["lan", "lan"]}"#, "links: a link is named twice"),
            (#"{"name": "duo", "links": ["upstream"]}"#, "links[0]"),
            (#"{"name": "duo", "hosts": [{"name": "h", "link": "wan"}]}"#, "hosts[0].link: \"wan\" is not one of the links"),
            (#"{"name": "duo", "links": ["l"], "hosts": [{"name": "h", "link": "l"}, {"name": "h", "link": "l"}]}"#, "hosts[1].name: \"h\" is taken"),
            (#"{"name": "duo", "links": ["l"], "routers": [{"name": "r", "link": "l", "address": "2001:db8::1"}]}"#, "routers[0].address"),
            (
                #"{"name": "duo", "links": ["l"], "routers": [{"name": "r", "link": "l", "address": "2001:db8::1/64", "announce": {"pvds": [{"id": "a.example", "info": {"file": "x"}}]}}]}"#,
                "pvds[0].info.file: unknown key"
            ),
            (
                #"{"name": "duo", "links": ["l"], "routers": [{"name": "r", "link": "l", "address": "2001:db8::1/64", "announce": {"pvds": [{"id": "a.example", "info": {"document": {"proxies": 1}}}]}}]}"#,
                "pvds[0].info.document: \"proxies\" must be an array of objects"
            ),
            (
                #"{"name": "duo", "links": ["l"], "routers": [{"name": "r", "link": "l", "address": "2001:db8::1/64", "announce": {"pvds": [{"id": "a.example", "info": {"document": {"expires": "x"}}}]}}]}"#,
                "pvds[0].info.document: a mapping of keys besides"
            ),
            (
                #"{"name": "duo", "links": ["l"], "routers": [{"name": "r", "link": "l", "address": "2001:db8::1/64", "announce": {"outside": {"mtu": 5}}}]}"#,
                "routers[0].announce.outside.mtu"
            ),
            (
                #"{"name": "duo", "links": ["l"], "routers": [{"name": "a", "link": "l", "address": "2001:db8::1/64"}, {"name": "b", "link": "l", "address": "2001:db8::2/64"}]}"#,
                "routers: a and b both route 2001:db8::/64"
            ),
            (
                #"{"name": "duo", "links": ["l"], "hosts": [{"name": "h", "link": "l"}], "vpns": [{"name": "v", "server": "2001:db8::10", "host": "h"}]}"#,
                "vpns[0].host: \"h\" is not a host that runs pvdd"
            ),
            (#"{"name": "duo", "upstream": ["10.0.0.1"]}"#, "upstream: \"10.0.0.1\""),
        ] {
            do {
                _ = try topology(text)
                Issue.record("accepted: \(text)")
            } catch {
                #expect("\(error)".hasPrefix(problem), "\(error)")
            }
        }
    }
}
