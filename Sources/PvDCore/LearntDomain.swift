import PvDWire

/// Time for the model: seconds on a monotonic clock, as a plain value so that
/// tests drive it (the daemon feeds CLOCK_BOOTTIME).
public typealias Seconds = Double

/// Which provisioning domain an RA belongs to (RFC 8801 §3.4).
public enum PvDKey: Hashable, Sendable, CustomStringConvertible {
    /// An explicit PvD, by PvD ID (compared case-insensitively), whatever the
    /// routers and links that advertise it.
    case explicit(PvDWire.DomainName)
    /// An implicit PvD: one per (interface, router link-local address), never merged.
    case implicit(interface: String, router: IPv6Address)

    public var description: String {
        switch self {
        case .explicit(let id): id.description
        case .implicit(let interface, let router): "\(router)%\(interface)"
        }
    }
}

/// Bounds that keep a flood of RAs from growing the table without limit.
public struct DomainLimits: Equatable, Sendable {
    public var maximumDomains = 64
    public var maximumRoutersPerDomain = 8
    public var maximumPrefixesPerDomain = 16
    public var maximumRoutesPerDomain = 32
    public var maximumDNSServersPerDomain = 8
    public var maximumSearchDomainsPerDomain = 8
    /// RAs accepted per second from one source (router address on an interface).
    public var routerAdvertisementsPerSecond: Double = 10
    /// Burst allowed above that rate.
    public var routerAdvertisementBurst: Double = 20

    public init() {}
}

/// What was refused because of ``DomainLimits``, counted rather than stored.
public struct LimitCounters: Equatable, Sendable {
    public var rateLimitedRAs = 0
    public var refusedDomains = 0
    public var refusedRouters = 0
    public var refusedEntries = 0
    /// RDNSS addresses no program inside a domain can use (multicast,
    /// unspecified, loopback, link-local): never written to resolv.conf.
    public var refusedDNSServers = 0
    /// Prefixes and routes no domain can use: link-local or multicast (and,
    /// for a prefix, inside ::/64).
    public var refusedPrefixes = 0
    /// PvDs whose ID cannot name a domain, or whose name is another's.
    public var refusedPvDs = 0

    public init() {}
}

/// An address a domain wanted that another node on the link already owns.
public struct AddressConflict: Equatable, Sendable {
    public var domain: String
    public var address: IPv6Address
    public var prefix: IPv6Prefix
    /// Addresses of this prefix found in use so far.
    public var conflicts: Int
    /// Whether the domain has stopped taking an address in the prefix.
    public var gaveUp: Bool { conflicts >= DomainTable.maximumAddressConflicts }
}

/// What one router told one domain, each entry with its own lifetime.
struct RouterState: Sendable {
    var interface: String
    var address: IPv6Address
    /// When the router stops being a default router (router lifetime).
    var defaultUntil: Seconds
    var prefixes: [IPv6Prefix: PrefixState] = [:]
    var routes: [IPv6Prefix: Seconds] = [:]
    /// In the router's order, which is its preference (RFC 8106).
    var dnsServers = OrderedLifetimes<IPv6Address>()
    var searchDomains = OrderedLifetimes<PvDWire.DomainName>()
    var mtu: UInt32?
    /// The last time this router said anything.
    var lastHeard: Seconds

    struct PrefixState: Sendable {
        var onLink: Bool
        var autonomous: Bool
        var validUntil: Seconds
    }

    /// The valid autonomous /64s it advertises: those a domain takes an address in.
    func addressPrefixes(at now: Seconds) -> Set<IPv6Prefix> {
        Set(prefixes.filter { $0.value.validUntil > now && $0.value.autonomous && $0.key.length == 64 }.keys)
    }
}

/// One provisioning domain as learnt from RAs.
public struct LearntDomain: Sendable {
    public let key: PvDKey
    /// The domain's name (see ``DomainTable/name(for:)``).
    public let name: String
    /// The interface the domain was first heard on, where it stays attached
    /// (also once its routers are gone, until it is removed).
    public let uplink: String
    /// The PvD option's sequence number (explicit PvDs).
    public internal(set) var sequence: UInt16?
    /// H: additional information is available.
    public internal(set) var http = false
    /// L: the router also offers IPv4 through DHCPv4.
    public internal(set) var legacy = false
    /// Delay for the additional-information fetch.
    public internal(set) var delay: UInt8 = 0
    /// When the domain lost its last router; removed after the grace period.
    public internal(set) var orphanedAt: Seconds?
    var routers: [String: RouterState] = [:]
    /// Duplicate address detection: the addresses being probed (until when),
    /// those found free, and per prefix how many were found in use.
    var probing: [IPv6Address: Seconds] = [:]
    var verified: Set<IPv6Address> = []
    var conflicts: [IPv6Prefix: Int] = [:]

    init(key: PvDKey, name: String, uplink: String) {
        self.key = key
        self.name = name
        self.uplink = uplink
    }

    /// The interfaces the domain was heard on.
    public var interfaces: Set<String> { Set(routers.values.map(\.interface)) }

    /// How long its longest-lived router stays a default router, from `now`
    /// (0 when none is one).
    public func routerLifetime(at now: Seconds) -> Seconds {
        max(0, routers.values.map(\.defaultUntil).max().map { $0 - now } ?? 0)
    }
}
