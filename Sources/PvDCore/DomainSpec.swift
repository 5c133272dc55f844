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

/// Names and numbers derived from a domain's name, stable across restarts so a
/// restarted daemon finds what it made: namespace, interface names, routing
/// table, rule priority.
public struct DomainNaming: Equatable, Sendable {
    /// Prefix of every namespace pvd makes (`/run/netns/<prefix><name>`).
    public static let namespacePrefix = "pvd-"

    /// The network namespace of the domain called `name` (`pvd-<name>`).
    public static func namespace(ofDomain name: String) -> String { namespacePrefix + name }
    /// Prefix of host-side veth names; what pvd finds with it is pvd's.
    public static let hostLinkPrefix = "pvh"
    /// The domain-side veth, inside the domain's namespace.
    public static let domainLink = "pvd0"
    /// The host side's link-local address on the veth: the domain's gateway.
    public static let hostLinkLocal = IPv6Address("fe80::1")!
    /// The domain side's link-local address on the veth.
    public static let domainLinkLocal = IPv6Address("fe80::2")!
    /// Routing tables pvd uses: 0x7064_0000 ("pd") plus the slot.
    public static let tableBase: UInt32 = 0x7064_0000
    /// Policy rules pvd adds sit at 10000 + 2 × slot (and + 1 for the drop rule).
    public static let rulePriorityBase: UInt32 = 10_000
    /// Number of slots: 8192 keeps every rule (at most 26383) before the
    /// kernel's `main` rule at 32766, which must never take a domain's traffic.
    public static let slotCount = 8192

    public let name: String
    /// Slot (below ``slotCount``) from the name's hash; ``DomainNaming/init(name:slot:)``
    /// lets a caller pick another on collision.
    public let slot: UInt16

    /// The longest domain name: the namespace name must fit a file name, and
    /// names are shown in tables.
    public static let maximumNameLength = 200

    /// Checks `name`: 1 to 200 of `a-z 0-9 . - _`, not starting with `.` or `-`.
    public static func validate(_ name: String) throws(DomainNameRuleError) {
        guard !name.isEmpty, name.utf8.count <= maximumNameLength else { throw .length(name.utf8.count) }
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789.-_".utf8)
        guard name.utf8.allSatisfy(allowed.contains) else { throw .characters(name) }
        guard let first = name.utf8.first, first != UInt8(ascii: "."), first != UInt8(ascii: "-") else {
            throw .characters(name)
        }
    }

    public init(name: String) throws(DomainNameRuleError) {
        try DomainNaming.validate(name)
        let digest = SHA256.hash(Array("pvd-slot:\(name)".utf8))
        self.init(validated: name, slot: (UInt16(digest[0]) << 8 | UInt16(digest[1])) % UInt16(DomainNaming.slotCount))
    }

    /// The naming with a given slot, taken modulo ``slotCount``.
    public init(name: String, slot: UInt16) throws(DomainNameRuleError) {
        try DomainNaming.validate(name)
        self.init(validated: name, slot: slot % UInt16(DomainNaming.slotCount))
    }

    private init(validated name: String, slot: UInt16) {
        self.name = name
        self.slot = slot
    }

    /// `pvd-<name>` under /run/netns.
    public var namespace: String { DomainNaming.namespace(ofDomain: name) }
    /// `pvh` and four hex digits: within the 15 characters of an interface name.
    public var hostLink: String {
        let hex = String(slot, radix: 16)
        return DomainNaming.hostLinkPrefix + String(repeating: "0", count: 4 - hex.count) + hex
    }
    public var table: UInt32 { DomainNaming.tableBase + UInt32(slot) }
    /// Uplinks one domain can use: its own and seven more (their tables fill
    /// 0x7064_0000 to 0x7064_FFFF).
    public static let maximumUplinks = 8
    /// The routing table of the domain's uplink number `index` (0: its own uplink).
    public func table(uplink index: Int) -> UInt32 { table + UInt32(index) * UInt32(DomainNaming.slotCount) }
    /// Priority of the rule sending the domain's addresses to its table.
    public var rulePriority: UInt32 { DomainNaming.rulePriorityBase + 2 * UInt32(slot) }
    /// Priority of the rule dropping anything else that comes from the domain.
    public var dropRulePriority: UInt32 { rulePriority + 1 }

    /// The slot a host-side link name encodes, if it is one of pvd's.
    public static func slot(ofHostLink link: String) -> UInt16? {
        guard link.hasPrefix(hostLinkPrefix), link.utf8.count == hostLinkPrefix.utf8.count + 4,
            let slot = UInt16(link.dropFirst(hostLinkPrefix.count), radix: 16), Int(slot) < slotCount
        else { return nil }
        return slot
    }
}

/// Names of different origins can never be the same by construction: a
/// learnt explicit PvD is named by its PvD ID, which has at least two labels;
/// an implicit PvD by its interface and router, `<interface>-fe80-…`, which
/// has no dot; an alias has no dot and never looks like an implicit name.
/// Names chosen by root (static, VPN and namespace domains) are checked
/// against the others when they are made, and a PvD that would take one of
/// them is refused.
extension DomainNaming {
    /// Why a PvD ID cannot name a domain on the host, or nil when it can.
    public static func refusal(ofPvDID id: PvDWire.DomainName) -> String? {
        let name = id.description.lowercased()
        do { try validate(name) } catch { return error.description }
        guard name.contains(".") else { return "a PvD ID of one label (\(name)) could be an alias's or an implicit domain's name" }
        return nil
    }

    /// The daemon's own namespace, published for the NetworkManager fork.
    public static let daemonNamespace = "rootns"

    /// Checks a name root chooses (a static, VPN or namespace domain): a
    /// valid name, neither of an implicit domain's form nor the daemon's own
    /// namespace's.
    public static func validateChosen(_ name: String) throws(DomainNameRuleError) {
        try validate(name)
        if looksImplicit(name) { throw .reserved(name, "has the form of an implicit domain's name (<interface>-fe80-…)") }
        if name == daemonNamespace { throw .reserved(name, "is the daemon's own namespace") }
    }

    /// Whether `name` has the form of an implicit domain's name
    /// (`<interface>-fe80-…`, from a link-local router address).
    public static func looksImplicit(_ name: String) -> Bool {
        !name.contains(".") && (name.contains("-fe80-") || name.hasSuffix("-fe80"))
    }

    /// Why `name` cannot be an alias, or nil when it can.
    public static func refusal(ofAlias name: String) -> String? {
        do { try validate(name) } catch { return error.description }
        if name.contains(".") { return "an alias has no dot (PvD IDs have them)" }
        if looksImplicit(name) { return "\"\(name)\" has the form of an implicit domain's name" }
        return nil
    }
}

extension DomainNaming {
    /// `text` in quotes for a message: whole when a name could be that long,
    /// else its start and its length (a caller's 100 kB string is not sent back).
    public static func quoted(_ text: String) -> String {
        text.utf8.count <= maximumNameLength ? "\"\(text)\"" : "\"\(text.prefix(32))…\" (\(text.utf8.count) bytes)"
    }

    /// The domain a person means by `query` among `names`: the name itself,
    /// else the one name that starts with it (`corp` for `corp.example.com`).
    /// Matching ignores case, as PvD IDs do.
    public static func resolve(_ query: String, among names: [String]) throws(DomainLookupError) -> String {
        guard query.utf8.count <= maximumNameLength else { throw .unknown(query) }
        let wanted = query.lowercased()
        if let exact = names.first(where: { $0 == wanted }) { return exact }
        let matches = names.filter { $0.hasPrefix(wanted) }.sorted()
        guard !wanted.isEmpty, let only = matches.first else { throw .unknown(query) }
        guard matches.count == 1 else { throw .ambiguous(query, matches) }
        return only
    }
}

/// Why a name given by a person does not pick one domain.
public enum DomainLookupError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknown(String)
    case ambiguous(String, [String])

    public var description: String {
        switch self {
        case .unknown(let query): "no domain is called \(DomainNaming.quoted(query)) or starts with it"
        case .ambiguous(let query, let names): "\(DomainNaming.quoted(query)) could be any of \(names.joined(separator: ", ")); say more of the name"
        }
    }
}

/// Why a string cannot name a domain.
public enum DomainNameRuleError: Error, Equatable, Sendable, CustomStringConvertible {
    case length(Int)
    case characters(String)
    case reserved(String, String)

    public var description: String {
        switch self {
        case .length(let length): "a domain name has 1 to \(DomainNaming.maximumNameLength) characters, not \(length)"
        case .characters(let name):
            "\"\(name)\" is not a domain name: use a-z, 0-9, '.', '-', '_', not starting with '.' or '-'"
        case .reserved(let name, let why): "\"\(name)\" \(why)"
        }
    }
}

/// Stable, opaque interface identifiers in the spirit of RFC 7217: the same
/// prefix, domain and secret give the same address across restarts; another
/// domain, prefix or host gives an unrelated one.
public enum StableAddress {
    /// The address for `domain` in the /64 `prefix`; `attempt` moves on after a
    /// DAD conflict (RFC 7217's DAD_Counter). Reserved identifiers (RFC 5453)
    /// are skipped.
    public static func address(in prefix: IPv6Prefix, domain: String, secret: [UInt8], attempt: Int = 0) -> IPv6Address {
        var counter = attempt
        while true {
            var hasher = SHA256()
            hasher.update(prefix.address.octets.prefix(8))
            hasher.update(Array(domain.utf8))
            hasher.update([0])
            hasher.update((0..<4).map { UInt8(truncatingIfNeeded: counter >> (24 - 8 * $0)) })
            hasher.update(secret)
            let digest = hasher.finalize()
            let identifier = digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            if !isReserved(identifier) {
                return IPv6Address(high: prefix.address.high, low: identifier)
            }
            counter += 1
        }
    }

    /// The subnet-router anycast identifier (0) and the reserved anycast range
    /// fdff:ffff:ffff:ff80 to fdff:ffff:ffff:ffff (RFC 5453).
    static func isReserved(_ identifier: UInt64) -> Bool {
        identifier == 0 || identifier >= 0xFDFF_FFFF_FFFF_FF80 && identifier <= 0xFDFF_FFFF_FFFF_FFFF
    }
}
