import PvDWire
import Testing

@testable import PvDCore

struct TunnelSettingsTests {
    @Test func readsOpenVPNsEnvironment() throws {
        let settings = try TunnelSettings(openVPNEnvironment: [
            "dev": "pvt0001", "ifconfig_local": "10.8.0.2", "ifconfig_remote": "10.8.0.1", "tun_mtu": "1400",
            "ifconfig_ipv6_local": "fd00:8::2", "ifconfig_ipv6_netbits": "64",
            "route_network_1": "10.20.0.0", "route_netmask_1": "255.255.0.0", "route_ipv6_network_1": "fd00:20::/48",
            "foreign_option_1": "dhcp-option DNS 10.8.0.1", "foreign_option_2": "dhcp-option DOMAIN corp.example",
            "foreign_option_3": "dhcp-option DNS6 fd00:8::1", "foreign_option_4": "block-outside-dns",
        ])
        #expect(settings.device == "pvt0001")
        #expect(settings.ipv4?.description == "10.8.0.2/32")
        #expect(settings.ipv6 == IPv6Address("fd00:8::2") && settings.ipv6PrefixLength == 64)
        #expect(settings.ipv4Routes.map(\.description) == ["10.20.0.0/16"])
        #expect(settings.ipv6Routes == [IPv6Prefix("fd00:20::/48")!])
        #expect(settings.dnsServers == ["10.8.0.1", "fd00:8::1"])
        #expect(settings.searchDomains == [try DomainName("corp.example")])
        #expect(settings.mtu == 1400)
        #expect(
            settings.resolvConf(domain: "vpn") == """
                # Written by pvd for VPN domain vpn; do not edit.
                nameserver 10.8.0.1
                nameserver fd00:8::1
                search corp.example

                """)
        let subnet = try TunnelSettings(openVPNEnvironment: ["dev": "tun0", "ifconfig_local": "10.8.0.6", "ifconfig_netmask": "255.255.255.0"])
        #expect(subnet.ipv4?.description == "10.8.0.6/24")
    }

    @Test(arguments: [
        (["ifconfig_local": "10.8.0.2"], "dev: OpenVPN named no tunnel device"),
        (["dev": "a/b"], "dev: \"a/b\" is not an interface name"),
        (["dev": "tun0", "ifconfig_local": "10.8.0.256"], "ifconfig_local: \"10.8.0.256\" is not an IPv4 address"),
        (["dev": "tun0", "ifconfig_local": "10.8.0.2", "ifconfig_netmask": "255.0.255.0"], "ifconfig_netmask: \"255.0.255.0\" is not a netmask"),
        (["dev": "tun0", "foreign_option_1": "dhcp-option DNS evil;rm"], "foreign_option_1: \"evil;rm\" is not a DNS server address"),
        (["dev": "tun0", "tun_mtu": "9"], "tun_mtu: \"9\" is not an MTU"),
    ])
    func badEnvironmentsNameTheVariable(env: [String: String], problem: String) {
        do {
            _ = try TunnelSettings(openVPNEnvironment: env)
            Issue.record("accepted \(env)")
        } catch {
            #expect(error.description == problem)
        }
    }
}
