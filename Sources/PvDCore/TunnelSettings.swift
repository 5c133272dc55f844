import PvDWire

/// What a VPN domain's tunnel carries, as OpenVPN's `--up` script is told
/// (its environment): the device, its addresses, routes and DNS. The domain
/// has the tunnel as its only way out, so its default routes always go
/// through it whatever the server pushes.
public struct TunnelSettings: Equatable, Sendable {
    /// An IPv4 address and prefix length.
    public struct IPv4Prefix: Equatable, Sendable {
        public var octets: [UInt8]
        public var length: Int
        public init(octets: [UInt8], length: Int) {
            self.octets = octets
            self.length = length
        }
        public var description: String { octets.map(String.init).joined(separator: ".") + "/\(length)" }
    }

    public var device: String
    public var ipv4: IPv4Prefix?
    /// The tunnel's IPv6 address and its prefix length (an interface address, not a prefix).
    public var ipv6: IPv6Address?
    public var ipv6PrefixLength = 128
    /// Routes pushed besides the default ones (kept: they document the VPN's reach).
    public var ipv4Routes: [IPv4Prefix] = []
    public var ipv6Routes: [IPv6Prefix] = []
    /// DNS servers as the VPN gives them (IPv4 or IPv6 text), in order.
    public var dnsServers: [String] = []
    public var searchDomains: [PvDWire.DomainName] = []
    public var mtu: UInt32?

    /// A tunnel with nothing set yet.
    public init(device: String) { self.device = device }

    /// The settings without the routes that the domain has anyway: the
    /// default routes (always through the tunnel), the prefix routes the
    /// kernel makes for the tunnel's own addresses, and repeats. A server
    /// pushing `route-ipv6 ::/0` or its own subnet is common; those must not
    /// make the tunnel fail with "File exists".
    public func withoutRedundantRoutes() -> TunnelSettings {
        var copy = self
        var seen4: Set<String> = []
        copy.ipv4Routes = ipv4Routes.filter { route in
            guard route.length > 0, seen4.insert(route.description).inserted else { return false }
            guard let ipv4, ipv4.length < 32, route.length == ipv4.length else { return true }
            return route.description != TunnelSettings.IPv4Prefix(octets: TunnelSettings.network(ipv4.octets, ipv4.length), length: ipv4.length).description
        }
        var seen6: Set<IPv6Prefix> = []
        let own = ipv6.flatMap { ipv6PrefixLength < 128 ? IPv6Prefix(address: $0, length: ipv6PrefixLength) : nil }
        copy.ipv6Routes = ipv6Routes.filter { $0.length > 0 && $0 != own && seen6.insert($0).inserted }
        return copy
    }

    static func network(_ octets: [UInt8], _ length: Int) -> [UInt8] {
        let bits = octets.reduce(UInt32(0)) { $0 << 8 | UInt32($1) } & (length == 0 ? 0 : ~UInt32(0) << (32 - length))
        return [UInt8(bits >> 24), UInt8(bits >> 16 & 0xFF), UInt8(bits >> 8 & 0xFF), UInt8(bits & 0xFF)]
    }

    /// Reads OpenVPN's script environment; errors name the variable.
    public init(openVPNEnvironment env: [String: String]) throws(ConfigurationError) {
        guard let device = env["dev"], !device.isEmpty else { throw ConfigurationError("dev", "OpenVPN named no tunnel device") }
        self.device = try ConfigurationError.interfaceName(device, at: "dev")
        if let local = env["ifconfig_local"] {
            guard let octets = TunnelSettings.ipv4(local) else { throw ConfigurationError("ifconfig_local", "\"\(local)\" is not an IPv4 address") }
            var length = 32
            if let mask = env["ifconfig_netmask"] {
                guard let maskLength = TunnelSettings.prefixLength(ofMask: mask) else {
                    throw ConfigurationError("ifconfig_netmask", "\"\(mask)\" is not a netmask")
                }
                length = maskLength
            }
            ipv4 = IPv4Prefix(octets: octets, length: length)
        }
        if let local = env["ifconfig_ipv6_local"] {
            let bits = env["ifconfig_ipv6_netbits"].flatMap { Int($0) } ?? 128
            guard let address = IPv6Address(local), (1...128).contains(bits) else {
                throw ConfigurationError("ifconfig_ipv6_local", "\"\(local)/\(bits)\" is not an IPv6 address")
            }
            ipv6 = address
            ipv6PrefixLength = bits
        }
        for index in 1...256 {
            guard let network = env["route_network_\(index)"] else { break }
            guard let octets = TunnelSettings.ipv4(network),
                let length = TunnelSettings.prefixLength(ofMask: env["route_netmask_\(index)"] ?? "255.255.255.255")
            else {
                throw ConfigurationError("route_network_\(index)", "\"\(network)\" is not an IPv4 route")
            }
            ipv4Routes.append(IPv4Prefix(octets: octets, length: length))
        }
        for index in 1...256 {
            guard let network = env["route_ipv6_network_\(index)"] else { break }
            guard let prefix = IPv6Prefix(network) else { throw ConfigurationError("route_ipv6_network_\(index)", "\"\(network)\" is not an IPv6 prefix") }
            ipv6Routes.append(prefix)
        }
        for index in 1...256 {
            guard let option = env["foreign_option_\(index)"] else { break }
            let words = option.split(separator: " ").map(String.init)
            guard words.count == 3, words[0] == "dhcp-option" else { continue }
            switch words[1] {
            case "DNS", "DNS6":
                try addDNSServer(words[2], from: "foreign_option_\(index)")
            case "DOMAIN", "DOMAIN-SEARCH":
                try addSearchDomain(words[2], from: "foreign_option_\(index)")
            default: continue
            }
        }
        if let text = env["tun_mtu"] { mtu = try TunnelSettings.mtu(text, from: "tun_mtu") }
    }

    /// Reads the environment OpenConnect gives its script at `connect` and
    /// `reconnect` (vpnc-script's variables): TUNDEV, INTERNAL_IP4_ADDRESS
    /// with _NETMASKLEN and _MTU, INTERNAL_IP6_ADDRESS or _NETMASK
    /// (address/length), the split-include routes CISCO_SPLIT_INC_N_ADDR and
    /// _MASKLEN (CISCO_IPV6_SPLIT_INC… for IPv6), INTERNAL_IP4_DNS and
    /// INTERNAL_IP6_DNS (space-separated), CISCO_DEF_DOMAIN. The domain's
    /// default routes go through the tunnel whatever the split is.
    public init(openConnectEnvironment env: [String: String]) throws(ConfigurationError) {
        guard let device = env["TUNDEV"], !device.isEmpty else { throw ConfigurationError("TUNDEV", "OpenConnect named no tunnel device") }
        self.device = try ConfigurationError.interfaceName(device, at: "TUNDEV")
        if let local = env["INTERNAL_IP4_ADDRESS"] {
            guard let octets = TunnelSettings.ipv4(local) else { throw ConfigurationError("INTERNAL_IP4_ADDRESS", "\"\(local)\" is not an IPv4 address") }
            let length = env["INTERNAL_IP4_NETMASKLEN"].flatMap { Int($0) } ?? env["INTERNAL_IP4_NETMASK"].flatMap(TunnelSettings.prefixLength(ofMask:)) ?? 32
            guard (0...32).contains(length) else { throw ConfigurationError("INTERNAL_IP4_NETMASKLEN", "\(length) is not a prefix length") }
            ipv4 = IPv4Prefix(octets: octets, length: length)
        }
        if let text = env["INTERNAL_IP6_NETMASK"] ?? env["INTERNAL_IP6_ADDRESS"].map({ $0.contains("/") ? $0 : $0 + "/128" }) {
            let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
            let address = env["INTERNAL_IP6_ADDRESS"].flatMap { IPv6Address(String($0.split(separator: "/")[0])) } ?? IPv6Address(parts[0])
            guard let address, parts.count == 2, let length = Int(parts[1]), (1...128).contains(length) else {
                throw ConfigurationError("INTERNAL_IP6_ADDRESS", "\"\(text)\" is not an IPv6 address with its length")
            }
            ipv6 = address
            ipv6PrefixLength = length
        }
        let count4 = env["CISCO_SPLIT_INC"].flatMap { Int($0) } ?? 0
        for index in 0..<min(count4, 256) {
            guard let network = env["CISCO_SPLIT_INC_\(index)_ADDR"].flatMap(TunnelSettings.ipv4),
                let length = env["CISCO_SPLIT_INC_\(index)_MASKLEN"].flatMap({ Int($0) }), (0...32).contains(length)
            else { throw ConfigurationError("CISCO_SPLIT_INC_\(index)", "not an IPv4 route") }
            ipv4Routes.append(IPv4Prefix(octets: network, length: length))
        }
        let count6 = env["CISCO_IPV6_SPLIT_INC"].flatMap { Int($0) } ?? 0
        for index in 0..<min(count6, 256) {
            guard let address = env["CISCO_IPV6_SPLIT_INC_\(index)_ADDR"], let length = env["CISCO_IPV6_SPLIT_INC_\(index)_MASKLEN"],
                let prefix = IPv6Prefix("\(address)/\(length)")
            else { throw ConfigurationError("CISCO_IPV6_SPLIT_INC_\(index)", "not an IPv6 route") }
            ipv6Routes.append(prefix)
        }
        for key in ["INTERNAL_IP4_DNS", "INTERNAL_IP6_DNS"] {
            for server in (env[key] ?? "").split(separator: " ").map(String.init) { try addDNSServer(server, from: key) }
        }
        for name in (env["CISCO_DEF_DOMAIN"] ?? "").split(whereSeparator: { $0 == " " || $0 == "," }) {
            try addSearchDomain(String(name), from: "CISCO_DEF_DOMAIN")
        }
        if let text = env["INTERNAL_IP4_MTU"] { mtu = try TunnelSettings.mtu(text, from: "INTERNAL_IP4_MTU") }
    }

    /// Reads pvd's own hook contract, for any tunnel program
    /// (docs/guide.md): PVD_TUNNEL_DEVICE, PVD_TUNNEL_ADDRESSES (one IPv4
    /// and/or one IPv6 address with its prefix length, comma-separated),
    /// PVD_TUNNEL_ROUTES, PVD_TUNNEL_DNS and PVD_TUNNEL_SEARCH
    /// (comma-separated), PVD_TUNNEL_MTU. Errors name the variable.
    public init(hookEnvironment env: [String: String]) throws(ConfigurationError) {
        guard let device = env["PVD_TUNNEL_DEVICE"], !device.isEmpty else { throw ConfigurationError("PVD_TUNNEL_DEVICE", "names no tunnel device") }
        self.device = try ConfigurationError.interfaceName(device, at: "PVD_TUNNEL_DEVICE")
        func list(_ key: String) -> [String] { (env[key] ?? "").split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty } }
        for address in list("PVD_TUNNEL_ADDRESSES") {
            let parts = address.split(separator: "/", maxSplits: 1).map(String.init)
            if let octets = TunnelSettings.ipv4(parts[0]), ipv4 == nil, let length = parts.count == 2 ? Int(parts[1]) : 32, (0...32).contains(length) {
                ipv4 = IPv4Prefix(octets: octets, length: length)
            } else if let ipv6Address = IPv6Address(parts[0]), ipv6 == nil, let length = parts.count == 2 ? Int(parts[1]) : 128, (1...128).contains(length) {
                ipv6 = ipv6Address
                ipv6PrefixLength = length
            } else {
                throw ConfigurationError("PVD_TUNNEL_ADDRESSES", "\"\(address)\": one IPv4 and one IPv6 address, each with its prefix length")
            }
        }
        guard ipv4 != nil || ipv6 != nil else { throw ConfigurationError("PVD_TUNNEL_ADDRESSES", "no address for the tunnel") }
        for route in list("PVD_TUNNEL_ROUTES") {
            let parts = route.split(separator: "/", maxSplits: 1).map(String.init)
            if let octets = TunnelSettings.ipv4(parts[0]), parts.count == 2, let length = Int(parts[1]), (0...32).contains(length) {
                ipv4Routes.append(IPv4Prefix(octets: octets, length: length))
            } else if let prefix = IPv6Prefix(route) {
                ipv6Routes.append(prefix)
            } else {
                throw ConfigurationError("PVD_TUNNEL_ROUTES", "\"\(route)\" is not a prefix")
            }
        }
        for server in list("PVD_TUNNEL_DNS") { try addDNSServer(server, from: "PVD_TUNNEL_DNS") }
        for name in list("PVD_TUNNEL_SEARCH") { try addSearchDomain(name, from: "PVD_TUNNEL_SEARCH") }
        if let text = env["PVD_TUNNEL_MTU"] { mtu = try TunnelSettings.mtu(text, from: "PVD_TUNNEL_MTU") }
    }

    /// Adds a DNS server (IPv4 or IPv6 text); `key` names where it came from.
    mutating func addDNSServer(_ text: String, from key: String) throws(ConfigurationError) {
        guard TunnelSettings.ipv4(text) != nil || IPv6Address(text) != nil else {
            throw ConfigurationError(key, "\"\(text)\" is not a DNS server address")
        }
        dnsServers.append(text)
    }

    /// Adds a search domain; `key` names where it came from.
    mutating func addSearchDomain(_ text: String, from key: String) throws(ConfigurationError) {
        do { searchDomains.append(try PvDWire.DomainName(text)) } catch { throw ConfigurationError(key, "\"\(text)\" is not a domain name") }
    }

    /// A tunnel's MTU (576 to 65535); `key` names where it came from.
    static func mtu(_ text: String, from key: String) throws(ConfigurationError) -> UInt32 {
        guard let value = UInt32(text), (576...65535).contains(value) else { throw ConfigurationError(key, "\"\(text)\" is not an MTU") }
        return value
    }

    /// The resolv.conf text for the VPN domain (at most three servers, as glibc reads).
    public func resolvConf(domain: String) -> String {
        var text = "# Written by pvd for VPN domain \(domain); do not edit.\n"
        for server in dnsServers.prefix(3) { text += "nameserver \(server)\n" }
        if !searchDomains.isEmpty { text += "search \(searchDomains.map(\.description).joined(separator: " "))\n" }
        return text
    }

    static func ipv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        let octets = parts.compactMap { part -> UInt8? in
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), part.allSatisfy(\.isNumber) else { return nil }
            return UInt8(part)
        }
        return octets.count == 4 ? octets : nil
    }

    static func prefixLength(ofMask text: String) -> Int? {
        guard let octets = ipv4(text) else { return nil }
        let bits = octets.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let length = bits.nonzeroBitCount
        return bits == (length == 0 ? 0 : ~UInt32(0) << (32 - length)) ? length : nil
    }
}
