/// ND option type numbers this package knows (IANA "IPv6 Neighbor Discovery Option Formats").
public enum OptionType {
    public static let sourceLinkLayerAddress: UInt8 = 1
    public static let prefixInformation: UInt8 = 3
    public static let mtu: UInt8 = 5
    public static let provisioningDomain: UInt8 = 21
    public static let routeInformation: UInt8 = 24
    public static let recursiveDNSServers: UInt8 = 25
    public static let dnsSearchList: UInt8 = 31

    /// A readable name such as "PvD option (21)".
    public static func name(_ type: UInt8) -> String {
        let name =
            switch type {
            case sourceLinkLayerAddress: "source link-layer address option"
            case prefixInformation: "prefix information option"
            case mtu: "MTU option"
            case provisioningDomain: "PvD option"
            case routeInformation: "route information option"
            case recursiveDNSServers: "RDNSS option"
            case dnsSearchList: "DNSSL option"
            default: "option"
            }
        return "\(name) (\(type))"
    }
}

/// Router preference (RFC 4191 §2.1), two bits.
public enum RouterPreference: UInt8, Sendable, CustomStringConvertible {
    case medium = 0b00
    case high = 0b01
    /// Reserved: a receiver treats a router's as medium and ignores such a route.
    case reserved = 0b10
    case low = 0b11

    public var description: String {
        switch self {
        case .medium: "medium"
        case .high: "high"
        case .reserved: "reserved"
        case .low: "low"
        }
    }
}

/// The fields of an RA after type, code and checksum (RFC 4861 §4.2).
public struct RouterAdvertisementHeader: Hashable, Sendable {
    public var curHopLimit: UInt8
    /// The whole flags octet, reserved bits included.
    public var flags: UInt8
    /// Seconds; 0 means "not a default router".
    public var routerLifetime: UInt16
    /// Milliseconds; 0 means unspecified.
    public var reachableTime: UInt32
    /// Milliseconds; 0 means unspecified.
    public var retransTimer: UInt32

    public init(
        curHopLimit: UInt8 = 64, flags: UInt8 = 0, routerLifetime: UInt16 = 1800,
        reachableTime: UInt32 = 0, retransTimer: UInt32 = 0
    ) {
        self.curHopLimit = curHopLimit
        self.flags = flags
        self.routerLifetime = routerLifetime
        self.reachableTime = reachableTime
        self.retransTimer = retransTimer
    }

    /// M: addresses are available through DHCPv6.
    public var managed: Bool { flags & 0x80 != 0 }
    /// O: other configuration is available through DHCPv6.
    public var other: Bool { flags & 0x40 != 0 }
    /// H: the router is a Mobile IPv6 home agent (RFC 6275).
    public var homeAgent: Bool { flags & 0x20 != 0 }
    /// Default router preference (RFC 4191).
    public var preference: RouterPreference { RouterPreference(rawValue: flags >> 3 & 0b11)! }
    /// P: ND proxy (RFC 4389).
    public var proxy: Bool { flags & 0x04 != 0 }
}

/// A Router Advertisement as libndp delivers it: the ICMPv6 message from its type octet on.
public struct RouterAdvertisement: Hashable, Sendable {
    /// ICMPv6 type of a Router Advertisement.
    public static let icmpType: UInt8 = 134
    /// Octets before the first option.
    public static let headerLength = 16

    /// The checksum as received; not verified (the kernel does), written back as is.
    public var checksum: UInt16
    public var header: RouterAdvertisementHeader
    /// Top-level options in message order. At most one is a PvD option.
    public var options: [NDOption]

    public init(checksum: UInt16 = 0, header: RouterAdvertisementHeader, options: [NDOption]) {
        self.checksum = checksum
        self.header = header
        self.options = options
    }

    /// The PvD option, if the RA carries one.
    public var pvd: PvDOption? {
        for case .provisioningDomain(let pvd) in options { return pvd }
        return nil
    }
}

/// One Neighbor Discovery option (RFC 4861 §4.6).
public enum NDOption: Hashable, Sendable {
    /// Source link-layer address option: its body, padding included.
    case sourceLinkLayerAddress(ArraySlice<UInt8>)
    /// Link MTU.
    case mtu(UInt32)
    case prefixInformation(PrefixInformation)
    case routeInformation(RouteInformation)
    case recursiveDNSServers(RecursiveDNSServers)
    case dnsSearchList(DNSSearchList)
    case provisioningDomain(PvDOption)
    /// Any other option: its type and body (everything after the length octet).
    case unknown(type: UInt8, body: ArraySlice<UInt8>)
}

/// Prefix Information option (RFC 4861 §4.6.2).
public struct PrefixInformation: Hashable, Sendable {
    /// The prefix field as sent; bits after `prefixLength` are normally zero
    /// (with the R flag, RFC 6275, they carry the router's address).
    public var address: IPv6Address
    /// 0...128.
    public var prefixLength: UInt8
    /// The whole flags octet: L 0x80, A 0x40, R 0x20, P 0x10 (RFC 9762).
    public var flags: UInt8
    /// Seconds; 0xFFFFFFFF is infinity.
    public var validLifetime: UInt32
    /// Seconds; 0xFFFFFFFF is infinity.
    public var preferredLifetime: UInt32

    public init(
        prefix: IPv6Prefix, flags: UInt8 = 0xC0, validLifetime: UInt32 = 86400,
        preferredLifetime: UInt32 = 14400
    ) {
        self.address = prefix.address
        self.prefixLength = UInt8(prefix.length)
        self.flags = flags
        self.validLifetime = validLifetime
        self.preferredLifetime = preferredLifetime
    }

    /// The prefix, bits after the length cleared.
    public var prefix: IPv6Prefix { IPv6Prefix(address: address, length: Int(prefixLength))! }
    public var onLink: Bool { flags & 0x80 != 0 }
    public var autonomous: Bool { flags & 0x40 != 0 }
    public var routerAddress: Bool { flags & 0x20 != 0 }
}

/// Route Information option (RFC 4191 §2.3).
public struct RouteInformation: Hashable, Sendable {
    /// The prefix octets as sent, zero beyond what the option carries.
    public var address: IPv6Address
    /// 0...128.
    public var prefixLength: UInt8
    /// The whole flags octet; preference in bits 0x18.
    public var flags: UInt8
    /// Seconds; 0xFFFFFFFF is infinity.
    public var lifetime: UInt32
    /// The option length in units of 8 octets (1, 2 or 3): a sender may use more
    /// than the prefix length needs, so it is kept to re-encode the same bytes.
    public var optionLength: UInt8

    /// A route with the shortest option length that holds the prefix.
    public init(prefix: IPv6Prefix, preference: RouterPreference = .medium, lifetime: UInt32 = 1800) {
        self.address = prefix.address
        self.prefixLength = UInt8(prefix.length)
        self.flags = preference.rawValue << 3
        self.lifetime = lifetime
        self.optionLength = RouteInformation.minimumOptionLength(prefixLength: prefix.length)
    }

    /// The shortest allowed option length for a prefix length.
    public static func minimumOptionLength(prefixLength: Int) -> UInt8 {
        prefixLength == 0 ? 1 : prefixLength <= 64 ? 2 : 3
    }

    public var prefix: IPv6Prefix { IPv6Prefix(address: address, length: Int(prefixLength))! }
    public var preference: RouterPreference { RouterPreference(rawValue: flags >> 3 & 0b11)! }
}

// The flatMaps below take closures, not key paths: `flatMap(\.octets)` run from
// several threads at once corrupted the heap with Swift 6.3.1 on Linux
// (seen in the parallel unit tests; gone with closures).

/// Recursive DNS Server option (RFC 8106 §5.1).
public struct RecursiveDNSServers: Hashable, Sendable {
    /// Seconds; 0xFFFFFFFF is infinity, 0 withdraws the servers.
    public var lifetime: UInt32
    /// The addresses as sent, 16 octets each: a slice of the message when
    /// decoded, so decoding allocates nothing for them.
    public private(set) var serverOctets: ArraySlice<UInt8>

    public init(lifetime: UInt32, servers: [IPv6Address]) {
        self.lifetime = lifetime
        serverOctets = servers.flatMap { $0.octets }[...]
    }

    init(lifetime: UInt32, serverOctets: ArraySlice<UInt8>) {
        self.lifetime = lifetime
        self.serverOctets = serverOctets
    }

    /// At least one.
    public var servers: [IPv6Address] {
        get {
            stride(from: serverOctets.startIndex, to: serverOctets.endIndex, by: 16).map {
                IPv6Address(octets: serverOctets[$0..<$0 + 16])!
            }
        }
        set { serverOctets = newValue.flatMap { $0.octets }[...] }
    }
}

/// DNS Search List option (RFC 8106 §5.2).
public struct DNSSearchList: Hashable, Sendable {
    /// Seconds; 0xFFFFFFFF is infinity, 0 withdraws the domains.
    public var lifetime: UInt32
    /// The names in uncompressed wire format, back to back, without padding:
    /// a slice of the message when decoded (validated then).
    public private(set) var namesWire: ArraySlice<UInt8>

    public init(lifetime: UInt32, domains: [DomainName]) {
        self.lifetime = lifetime
        namesWire = domains.flatMap { $0.wire }[...]
    }

    init(lifetime: UInt32, namesWire: ArraySlice<UInt8>) {
        self.lifetime = lifetime
        self.namesWire = namesWire
    }

    /// At least one.
    public var domains: [DomainName] {
        get {
            var names: [DomainName] = []
            var start = namesWire.startIndex
            var index = start
            while index < namesWire.endIndex {
                let length = Int(namesWire[index])
                index += length + 1
                if length == 0 {
                    names.append(DomainName(validatedWire: namesWire[start..<index]))
                    start = index
                }
            }
            return names
        }
        set { namesWire = newValue.flatMap { $0.wire }[...] }
    }

    /// Equal when the names are, ignoring ASCII case as DNS does.
    public static func == (a: DNSSearchList, b: DNSSearchList) -> Bool {
        a.lifetime == b.lifetime && a.domains == b.domains
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(lifetime)
        hasher.combine(domains)
    }
}

/// Provisioning Domain option (RFC 8801 §3.1).
public struct PvDOption: Hashable, Sendable {
    /// The PvD ID; never the root name.
    public var id: DomainName
    /// H: PvD Additional Information is available over HTTPS.
    public var http: Bool
    /// L: the router also provides IPv4 through DHCPv4.
    public var legacy: Bool
    /// Delay (0...15) for the additional-information fetch.
    public var delay: UInt8
    /// Sequence number of the additional information.
    public var sequence: UInt16
    /// The RA header carried when the R flag is set.
    public var routerAdvertisementHeader: RouterAdvertisementHeader?
    /// Nested options; never another PvD option.
    public var options: [NDOption]

    public init(
        id: DomainName, http: Bool = false, legacy: Bool = false, delay: UInt8 = 0,
        sequence: UInt16 = 0, routerAdvertisementHeader: RouterAdvertisementHeader? = nil,
        options: [NDOption] = []
    ) {
        self.id = id
        self.http = http
        self.legacy = legacy
        self.delay = delay
        self.sequence = sequence
        self.routerAdvertisementHeader = routerAdvertisementHeader
        self.options = options
    }

    /// R: the option carries an RA header.
    public var hasRouterAdvertisementHeader: Bool { routerAdvertisementHeader != nil }

    /// Flag bits of the option's flags word.
    public enum Flag {
        public static let http: UInt16 = 0x8000
        public static let legacy: UInt16 = 0x4000
        public static let routerAdvertisement: UInt16 = 0x2000
        public static let reserved: UInt16 = 0x1FF0
        public static let delay: UInt16 = 0x000F
    }
}
