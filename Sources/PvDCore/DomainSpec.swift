import PvDWire

/// What one domain should look like on the host: the value HostNet makes real.
/// Built by the daemon from PvDs, VPNs and static configuration.
public struct DomainSpec: Equatable, Sendable {
    /// How a domain reaches its uplink.
    public enum Attachment: String, Equatable, Sendable {
        /// A veth to the host, which routes and proxies for the domain: works
        /// on any uplink (Wi-Fi too) and any kernel. The default.
        case routed
        /// A macvlan on the uplink, moved into the domain: the domain is a node
        /// on the link itself. Needs a kernel with macvlan and an uplink that
        /// accepts several MAC addresses.
        case macvlan
    }

    /// The domain's name (see ``DomainNaming``), e.g. `corp.example.com`.
    public var name: String
    /// The uplink the domain is attached to, in the daemon's namespace.
    public var uplink: String
    /// How the domain is attached to the uplink.
    public var attachment: Attachment = .routed
    /// The domain's own addresses (inside its namespace, proxied on the uplink).
    public var addresses: [IPv6Address]
    /// The PvD's routers: link-local addresses on the uplink; the domain's
    /// traffic leaves through them only (several: equal-cost multipath).
    public var routers: [IPv6Address]
    /// For an address whose prefix not every router advertised, the routers
    /// that did: its traffic leaves through those only (RFC 8028). An address
    /// not named here uses every router.
    public var nextHops: [IPv6Address: [IPv6Address]] = [:]
    /// Prefixes on the uplink's link (PIO with the L flag): reached directly.
    public var onLinkPrefixes: [IPv6Prefix]
    /// Routes inside the domain besides the default route (RIO).
    public var routes: [IPv6Prefix]
    /// Link MTU inside the domain, when the RA gave one.
    public var mtu: UInt32?
    /// Recursive DNS servers, in preference order.
    public var dnsServers: [IPv6Address]
    /// DNS search domains.
    public var searchDomains: [PvDWire.DomainName]
    /// Whether the domain gets the host's IPv4, through NAT on the uplink
    /// (routed attachment; RFC 8801's rule picks such domains, see
    /// ``DomainTable/ipv4Domains(on:)``).
    public var ipv4 = false
    /// Further uplinks an explicit PvD is heard on (routed attachment): the
    /// domain's traffic from an address of one of them leaves through it.
    public var otherUplinks: [UplinkSpec] = []
    /// Ports of the host that lead to the domain (routed attachment).
    public var ports: [PublishedPort] = []

    /// Every address of the domain, on every uplink.
    public var allAddresses: [IPv6Address] { addresses + otherUplinks.flatMap(\.addresses) }

    /// The routers traffic from `address` (one of ``addresses``) leaves through.
    public func routers(from address: IPv6Address) -> [IPv6Address] { nextHops[address] ?? routers }

    public init(
        name: String, uplink: String, addresses: [IPv6Address], routers: [IPv6Address],
        onLinkPrefixes: [IPv6Prefix] = [], routes: [IPv6Prefix] = [], mtu: UInt32? = nil,
        dnsServers: [IPv6Address] = [], searchDomains: [PvDWire.DomainName] = []
    ) {
        self.name = name
        self.uplink = uplink
        self.addresses = addresses
        self.routers = routers
        self.onLinkPrefixes = onLinkPrefixes
        self.routes = routes
        self.mtu = mtu
        self.dnsServers = dnsServers
        self.searchDomains = searchDomains
    }

    /// The resolv.conf text for this domain (at most three servers, as glibc reads).
    public var resolvConf: String {
        var text = "# Written by pvdd for domain \(name); do not edit.\n"
        for server in dnsServers.prefix(3) { text += "nameserver \(server)\n" }
        if !searchDomains.isEmpty { text += "search \(searchDomains.map(\.description).joined(separator: " "))\n" }
        return text
    }
}

/// What a domain has on one of its further uplinks (``DomainSpec/otherUplinks``).
public struct UplinkSpec: Equatable, Sendable {
    public var uplink: String
    /// The domain's addresses in the prefixes advertised on this uplink (proxied here).
    public var addresses: [IPv6Address]
    /// The PvD's routers on this uplink.
    public var routers: [IPv6Address]
    /// Prefixes on this uplink's link.
    public var onLinkPrefixes: [IPv6Prefix]
    /// As ``DomainSpec/nextHops``, for this uplink's addresses.
    public var nextHops: [IPv6Address: [IPv6Address]] = [:]

    /// The routers traffic from `address` (one of ``addresses``) leaves through.
    public func routers(from address: IPv6Address) -> [IPv6Address] { nextHops[address] ?? routers }

    public init(uplink: String, addresses: [IPv6Address], routers: [IPv6Address], onLinkPrefixes: [IPv6Prefix] = []) {
        self.uplink = uplink
        self.addresses = addresses
        self.routers = routers
        self.onLinkPrefixes = onLinkPrefixes
    }
}
