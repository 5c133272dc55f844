import PvDWire
import Testing

@testable import PvDCore

/// The checks a VPN configuration passes before pvd makes anything, and
/// what the clients say of their tunnels.
struct VPNConfigurationTests {
    static let client = """
        # OpenVPN's sample client.conf, trimmed
        client
        dev tun
        proto udp
        remote vpn.example.com 1194
        nobind
        persist-key
        persist-tun
        ca ca.crt
        cert client.crt
        key client.key
        tls-auth ta.key 1
        """

    @Test func theSampleClientPassesAndNamesItsSecrets() throws {
        let summary = try OpenVPNConfiguration.check(Self.client)
        #expect(summary.secretFiles == ["client.key", "ta.key"])
        #expect(summary.servers == ["vpn.example.com"])
        #expect(!summary.holdsSecrets)
    }

    @Test func inlineKeysMakeTheFileASecret() throws {
        let text = "client\nremote 192.0.2.1\n<ca>\n-----BEGIN CERTIFICATE-----\n</ca>\n<key>\nsecret stuff\n</key>\n"
        #expect(try OpenVPNConfiguration.check(text).holdsSecrets)
    }

    @Test(arguments: [
        ("", "the file is empty"),
        ("# nothing\n; at all\n", "the file is empty"),
        ("Hello, this is a letter.\n", "is not an OpenVPN option"),
        ("{\"json\": true}", "is not an OpenVPN option"),
        ("remote 192.0.2.1\ndev tun\n", "without authentication or encryption"),
        ("client\nremote 192.0.2.1\n", "nothing checks the server's certificate"),
        ("client\nca ca.crt\n", "no remote"),
        ("secret k.key\nremote 192.0.2.1\ncipher none\n", "unencrypted"),
        ("client\nremote a\nca ca.crt\ndata-ciphers AES-256-GCM:none\n", "unencrypted"),
        ("client\nremote a\nca ca.crt\ndaemon\n", "pvdd's watch"),
        ("mode server\ntls-server\n", "server configuration"),
        ("client\nremote a\nca ca.crt\ndev tap0\n", "tun device"),
        ("client\nremote a\nca ca.crt\nconfig other.conf\n", "includes another file"),
        ("client\nremote a\n<ca>\nxyz\n", "not closed"),
    ])
    func refused(text: String, because: String) {
        do {
            _ = try OpenVPNConfiguration.check(text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.description.contains(because), "\(error.description)")
        }
    }

    static let wireGuard = """
        [Interface]
        PrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=
        Address = 10.7.0.2/24, fd00:7::2/64
        DNS = 10.7.0.1, corp.test
        MTU = 1400

        [Peer]
        PublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=
        Endpoint = 192.0.2.1:51820
        AllowedIPs = 0.0.0.0/0, ::/0, 10.7.0.0/24
        PersistentKeepalive = 25
        """

    @Test func aWgQuickFileGivesWgOnlyWhatItReads() throws {
        let config = try WireGuardConfiguration(Self.wireGuard)
        #expect(!config.wgConfig.contains("Address") && !config.wgConfig.contains("DNS") && !config.wgConfig.contains("MTU"))
        #expect(config.wgConfig.contains("PrivateKey = yAnz5TF") && config.wgConfig.contains("[Peer]\nPublicKey = xTIBA5"))
        let settings = try config.tunnelSettings(device: "pvt0001")
        #expect(settings.ipv4?.description == "10.7.0.2/24" && settings.ipv6 == IPv6Address("fd00:7::2") && settings.ipv6PrefixLength == 64)
        #expect(settings.ipv4Routes.isEmpty && settings.ipv6Routes.isEmpty, "defaults and the tunnel's own subnet are the domain's anyway")
        #expect(settings.dnsServers == ["10.7.0.1"] && settings.searchDomains.map(\.description) == ["corp.test"] && settings.mtu == 1400)
    }

    @Test(arguments: [
        ("[Interface]\nAddress = 10.0.0.2/32\n[Peer]\nPublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n", "no PrivateKey"),
        ("[Interface]\nPrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\nAddress = 10.0.0.2/32\n", "no [Peer]"),
        (
            "[Interface]\nPrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\nPostUp = rm -rf /\n",
            "postup: pvd does not take it (it runs a command as root)"
        ),
        (
            "[Interface]\nPrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\nTable = off\n",
            "table: pvd does not take it (pvd makes the domain's routes itself)"
        ),
        ("client\nremote a\n", "is not KEY = VALUE"),
        ("[Interface]\nPrivateKey = short\n[Peer]\nPublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\nAddress = 1.2.3.4\n", "not a key of [Peer]"),
    ])
    func wireGuardRefused(text: String, because: String) {
        do {
            _ = try WireGuardConfiguration(text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.description.contains(because), "\(error.description)")
        }
    }

    @Test func pushedDefaultsAndTheOwnSubnetAreDropped() throws {
        let env = [
            "dev": "pvt0001", "ifconfig_local": "10.9.0.2", "ifconfig_netmask": "255.255.255.0", "ifconfig_ipv6_local": "fd00:9::1000",
            "ifconfig_ipv6_netbits": "64", "route_network_1": "10.9.0.0", "route_netmask_1": "255.255.255.0", "route_network_2": "198.51.100.0",
            "route_netmask_2": "255.255.255.0", "route_network_3": "198.51.100.0", "route_netmask_3": "255.255.255.0",
            "route_ipv6_network_1": "::/0", "route_ipv6_network_2": "fd00:9::/64", "route_ipv6_network_3": "2001:db8:99::/48",
        ]
        let settings = try TunnelSettings(openVPNEnvironment: env).withoutRedundantRoutes()
        #expect(settings.ipv4Routes.map(\.description) == ["198.51.100.0/24"])
        #expect(settings.ipv6Routes.map(\.description) == ["2001:db8:99::/48"])
    }

    @Test func openVPNsManagementLinesMakeTheState() {
        var status = TunnelStatus()
        status.apply(openVPNManagementLine: ">STATE:1764500000,WAIT,,,,,,")
        #expect(status.phase == .connecting && status.reason.hasPrefix("connecting (wait)"))
        status.apply(openVPNManagementLine: ">STATE:1764500001,CONNECTED,SUCCESS,10.9.0.2,192.0.2.1,1194,,")
        status.apply(openVPNManagementLine: ">BYTECOUNT:123456,7890")
        #expect(status.phase == .connected && status.server == "192.0.2.1:1194")
        #expect(status.reason == "connected to 192.0.2.1:1194 since 2025-11-30T10:53:21Z; 123 kB in, 7890 B out")
        status.apply(openVPNManagementLine: ">STATE:1764500100,RECONNECTING,ping-restart,,,,,")
        #expect(status.phase == .reconnecting && status.reason.contains("ping-restart"))
        status.apply(openVPNManagementLine: "1764500200,CONNECTED,SUCCESS,10.9.0.2,192.0.2.1,1194,,")
        #expect(status.phase == .connected, "the answer to the state command")
        status.apply(openVPNManagementLine: ">INFO:OpenVPN Management Interface Version 5")
        status.apply(openVPNManagementLine: "garbage,,,")
        #expect(status.phase == .connected)
    }

    @Test func wireGuardsHandshakeMakesTheState() {
        let dump = "priv\tpub\t0\toff\npeer\t(none)\t192.0.2.1:51820\t0.0.0.0/0\t1764500000\t1000\t2000\t25\n"
        #expect(TunnelStatus(wireGuardStatus: dump, now: 1_764_500_010).phase == .connected)
        #expect(TunnelStatus(wireGuardStatus: dump, now: 1_764_500_010).reason.hasPrefix("latest handshake with 192.0.2.1:51820 at "))
        #expect(TunnelStatus(wireGuardStatus: dump, now: 1_764_500_500).phase == .reconnecting)
        #expect(TunnelStatus(wireGuardStatus: "priv\tpub\t0\toff\npeer\t(none)\t(none)\t0.0.0.0/0\t0\t0\t0\toff\n", now: 5).phase == .connecting)
    }
}

/// OpenConnect's settings and what its script is told.
struct OpenConnectTests {
    @Test func settingsReadBackAndBecomeArguments() throws {
        let value = JSONValue.object([
            JSONMember("server", .string("https://vpn.example.com")), JSONMember("user", .string("alice")),
            JSONMember("password-file", .string("/etc/pvd/corp.pass")), JSONMember("servercert", .string("pin-sha256:abc=")),
        ])
        let (server, options) = try OpenConnectSettings.read(value, at: "vpns[0].openconnect")
        #expect(server == "https://vpn.example.com")
        #expect(
            OpenConnectSettings.arguments(server: server, options: options) == [
                "--protocol", "anyconnect", "--non-inter", "--user", "alice", "--passwd-on-stdin", "--servercert", "pin-sha256:abc=", "--",
                "https://vpn.example.com",
            ])
        #expect(OpenConnectSettings.stdinFile(options) == "/etc/pvd/corp.pass")
    }

    static let refusals: [([(String, String)], String)] = [
        ([("user", "a")], "server"),
        ([("server", "https://x"), ("user", "a")], "one source of credentials"),
        ([("server", "https://x"), ("password-file", "/p")], "needs the user"),
        ([("server", "https://x"), ("cookie-file", "/c"), ("certificate", "/c.pem")], "one source of credentials"),
        ([("server", "https://x"), ("cookie-file", "relative")], "absolute path"),
        ([("server", "https://x"), ("cookie-file", "/c"), ("protocol", "ipsec")], "one of"),
        ([("server", "--script=/bin/sh"), ("cookie-file", "/c")], "server"),
        ([("server", "https://x"), ("cookie-file", "/c"), ("script", "/bin/sh")], "unknown key"),
        ([("server", "https://x"), ("cookie-file", "/c"), ("servercert", "AA:BB")], "pin-sha256"),
    ]

    @Test(arguments: OpenConnectTests.refusals)
    func refused(pairs: [(String, String)], because: String) {
        do {
            _ = try OpenConnectSettings.read(.object(pairs.map { JSONMember($0.0, .string($0.1)) }), at: "oc")
            Issue.record("accepted: \(pairs)")
        } catch {
            #expect(error.description.contains(because), "\(error.description)")
        }
    }

    @Test func theConnectEnvironmentBecomesTheTunnel() throws {
        let env = [
            "reason": "connect", "TUNDEV": "pvt0001", "INTERNAL_IP4_ADDRESS": "10.6.0.50", "INTERNAL_IP4_NETMASKLEN": "24",
            "INTERNAL_IP4_MTU": "1472", "INTERNAL_IP4_DNS": "10.6.0.1 10.6.0.2", "CISCO_DEF_DOMAIN": "oc.test",
            "CISCO_SPLIT_INC": "2", "CISCO_SPLIT_INC_0_ADDR": "10.6.0.0", "CISCO_SPLIT_INC_0_MASKLEN": "24",
            "CISCO_SPLIT_INC_1_ADDR": "203.0.113.0", "CISCO_SPLIT_INC_1_MASKLEN": "24", "INTERNAL_IP6_NETMASK": "fd00:6::5/64",
        ]
        let settings = try TunnelSettings(openConnectEnvironment: env).withoutRedundantRoutes()
        #expect(settings.device == "pvt0001" && settings.ipv4?.description == "10.6.0.50/24" && settings.mtu == 1472)
        #expect(settings.ipv4Routes.map(\.description) == ["203.0.113.0/24"], "the tunnel's own subnet is the domain's anyway")
        #expect(settings.ipv6 == IPv6Address("fd00:6::5") && settings.ipv6PrefixLength == 64)
        #expect(settings.dnsServers == ["10.6.0.1", "10.6.0.2"] && settings.searchDomains.map(\.description) == ["oc.test"])
        #expect(throws: ConfigurationError.self) { _ = try TunnelSettings(openConnectEnvironment: ["TUNDEV": "pvt0001", "INTERNAL_IP4_ADDRESS": "ten"]) }
    }

    @Test func theHooksStatusLineReadsBack() {
        let status = TunnelStatus(hookStatus: TunnelStatus.hookStatusLine(.connected, at: 1_764_500_000, server: "192.0.2.1"))
        #expect(status.phase == .connected && status.server == "192.0.2.1" && status.since == 1_764_500_000)
        #expect(TunnelStatus(hookStatus: "").phase == .connecting)
        #expect(TunnelStatus(hookStatus: "reconnecting 5 x").reason.hasPrefix("reconnecting (the connection dropped)"))
    }
}

/// pvd's hook contract for any tunnel program.
struct HookContractTests {
    @Test func theContractsVariablesBecomeTheTunnel() throws {
        let settings = try TunnelSettings(hookEnvironment: [
            "PVD_TUNNEL_DEVICE": "pvt0001", "PVD_TUNNEL_ADDRESSES": "10.5.0.2/24, fd00:5::2/64", "PVD_TUNNEL_ROUTES": "198.18.0.0/15,2001:db8:55::/48,::/0",
            "PVD_TUNNEL_DNS": "10.5.0.1", "PVD_TUNNEL_SEARCH": "tun.test", "PVD_TUNNEL_MTU": "1400",
        ]).withoutRedundantRoutes()
        #expect(settings.ipv4?.description == "10.5.0.2/24" && settings.ipv6 == IPv6Address("fd00:5::2") && settings.ipv6PrefixLength == 64)
        #expect(settings.ipv4Routes.map(\.description) == ["198.18.0.0/15"] && settings.ipv6Routes.map(\.description) == ["2001:db8:55::/48"])
        #expect(settings.dnsServers == ["10.5.0.1"] && settings.searchDomains.map(\.description) == ["tun.test"] && settings.mtu == 1400)
    }

    @Test(arguments: [
        (["PVD_TUNNEL_ADDRESSES": "10.5.0.2/24"], "PVD_TUNNEL_DEVICE"),
        (["PVD_TUNNEL_DEVICE": "pvt0001"], "no address"),
        (["PVD_TUNNEL_DEVICE": "pvt0001", "PVD_TUNNEL_ADDRESSES": "10.5.0.2/24,10.6.0.2/24"], "one IPv4"),
        (["PVD_TUNNEL_DEVICE": "../x", "PVD_TUNNEL_ADDRESSES": "10.5.0.2/24"], "PVD_TUNNEL_DEVICE"),
        (["PVD_TUNNEL_DEVICE": "pvt0001", "PVD_TUNNEL_ADDRESSES": "10.5.0.2/24", "PVD_TUNNEL_DNS": "dns.example"], "DNS server"),
    ])
    func refused(env: [String: String], because: String) {
        do {
            _ = try TunnelSettings(hookEnvironment: env)
            Issue.record("accepted: \(env)")
        } catch {
            #expect(error.description.contains(because), "\(error.description)")
        }
    }
}
