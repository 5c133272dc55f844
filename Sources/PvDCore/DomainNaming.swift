import PvDWire

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
        !name.contains(".") && (name.contains(text: "-fe80-") || name.hasSuffix("-fe80"))
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
