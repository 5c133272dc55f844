import PvDWire

/// What `/etc/pvd/pvdd.yaml` says, checked. Built from a JSON-shaped value so
/// that it stays pure (the YAML reading is PvDConfig's job):
///
/// ```yaml
/// uplinks: [eth0, wlan0]      # none: every interface but lo and pvd's own
/// grace-period: 60            # seconds a domain without routers is kept
/// duplicate-address-detection: true   # probe each new address for 1 s first
/// ipv6-forwarding: auto       # or global: all.forwarding even where force_forwarding exists
/// state: /run/pvd/state.json
/// aliases:                    # a short name for a PvD
///   corp: corp.example.com
/// attachment:                 # per uplink: routed (default) or macvlan
///   eth1: macvlan
/// access:                     # who may run programs in a domain (root always may)
///   corp: {users: [alice], groups: [staff]}
///   "*": {groups: [netdev]}   # every domain
/// additional-information:
///   fetch: true               # fetch https://<PvD ID>/.well-known/pvd when H is set
///   ca-file: /etc/pvd/lab-ca.pem   # trust these CAs instead of the system's
/// ports:                      # host ports that lead to a learnt domain (PublishedPort)
///   corp: [{host: 8080, domain: 80, protocol: tcp, from: [host, "2001:db8:1::/64"]}]
/// ```
public struct DaemonConfiguration: Equatable, Sendable {
    /// Interfaces to learn domains on; empty: every interface but `lo` and pvd's own links.
    public var uplinks: [String] = []
    public var gracePeriod: Seconds = 60
    /// Whether a domain's new address is probed on the link (1 s) before use.
    public var duplicateAddressDetection = true
    /// How the kernel is told to forward for routed domains.
    public var forwarding = ForwardingMode.automatic
    public var statePath = Paths.runtime + "/state.json"
    /// Domain name to use for a PvD ID, by alias (`corp` → `corp.example.com`).
    public var aliases: [String: PvDWire.DomainName] = [:]
    /// How domains learnt on an uplink attach to it; routed when not named.
    public var attachments: [String: DomainSpec.Attachment] = [:]
    /// Ports of the host that lead to a learnt domain, by the domain's name
    /// (a static domain has its own, in its entry).
    public var ports: [String: [PublishedPort]] = [:]
    /// Who may use each domain (`*`: every domain), besides root.
    public var access: [String: DomainAccess] = [:]
    /// Whether to fetch PvD additional information.
    public var fetchAdditionalInformation = true
    /// A PEM file of CAs that replaces the system's for that fetch (labs).
    public var certificateAuthorityFile: String?

    public init() {}

    /// Reads the configuration from a parsed document; an absent key keeps its default.
    public init(_ document: JSONValue) throws(ConfigurationError) {
        let top = try ConfigurationError.object(
            document, at: "",
            allowed: [
                "uplinks", "grace-period", "duplicate-address-detection", "ipv6-forwarding", "state", "aliases", "attachment", "access",
                "additional-information", "domains", "vpns", "namespaces", "ports",
            ])
        if let value = top["uplinks"] {
            uplinks = try ConfigurationError.strings(value, at: "uplinks").map { name throws(ConfigurationError) in
                try ConfigurationError.interfaceName(name, at: "uplinks")
            }
        }
        if let value = top["grace-period"] {
            gracePeriod = try ConfigurationError.number(value, at: "grace-period")
            guard gracePeriod >= 0, gracePeriod <= 86_400 * 365 else {
                throw ConfigurationError("grace-period", "must be between 0 and one year of seconds")
            }
        }
        if let value = top["duplicate-address-detection"] {
            duplicateAddressDetection = try ConfigurationError.bool(value, at: "duplicate-address-detection")
        }
        if let value = top["ipv6-forwarding"] {
            let text = try ConfigurationError.string(value, at: "ipv6-forwarding")
            guard let mode = ForwardingMode(rawValue: text) else {
                throw ConfigurationError("ipv6-forwarding", "is auto (per interface where the kernel can) or global, not \(text)")
            }
            forwarding = mode
        }
        if let value = top["state"] {
            statePath = try ConfigurationError.string(value, at: "state")
            guard statePath.hasPrefix("/"), !statePath.hasSuffix("/") else {
                throw ConfigurationError("state", "must be an absolute file path")
            }
        }
        if let value = top["aliases"] {
            for member in try ConfigurationError.members(value, at: "aliases") {
                let path = "aliases.\(member.key)"
                if let refusal = DomainNaming.refusal(ofAlias: member.key) { throw ConfigurationError(path, refusal) }
                let text = try ConfigurationError.string(member.value, at: path)
                let id: PvDWire.DomainName
                do { id = try PvDWire.DomainName(text) } catch {
                    throw ConfigurationError(path, "\"\(text)\" is not a PvD ID: \(error)")
                }
                guard !id.isRoot else { throw ConfigurationError(path, "the root is not a PvD ID") }
                if let refusal = DomainNaming.refusal(ofPvDID: id) { throw ConfigurationError(path, "\(text) cannot be a PvD ID here: \(refusal)") }
                guard !aliases.values.contains(id) else { throw ConfigurationError(path, "\(text) already has an alias") }
                aliases[member.key] = id
            }
        }
        if let value = top["attachment"] {
            for member in try ConfigurationError.members(value, at: "attachment") {
                let path = "attachment.\(member.key)"
                let uplink = try ConfigurationError.interfaceName(member.key, at: path)
                let text = try ConfigurationError.string(member.value, at: path)
                guard let attachment = DomainSpec.Attachment(rawValue: text) else {
                    throw ConfigurationError(path, "is \"\(text)\"; use routed or macvlan")
                }
                attachments[uplink] = attachment
            }
        }
        if let value = top["ports"] { ports = try PublishedPort.table(value, at: "ports") }
        if let value = top["access"] {
            for member in try ConfigurationError.members(value, at: "access") {
                let path = "access.\(member.key)"
                if member.key != "*" {
                    do { try DomainNaming.validate(member.key) } catch { throw ConfigurationError(path, error.description) }
                }
                let entry = try ConfigurationError.object(member.value, at: path, allowed: ["users", "groups"])
                access[member.key] = DomainAccess(
                    users: try entry["users"].map { value throws(ConfigurationError) in try ConfigurationError.strings(value, at: "\(path).users") } ?? [],
                    groups: try entry["groups"].map { value throws(ConfigurationError) in try ConfigurationError.strings(value, at: "\(path).groups") } ?? [])
            }
        }
        if let value = top["additional-information"] {
            let info = try ConfigurationError.object(value, at: "additional-information", allowed: ["fetch", "ca-file"])
            if let fetch = info["fetch"] { fetchAdditionalInformation = try ConfigurationError.bool(fetch, at: "additional-information.fetch") }
            if let file = info["ca-file"] {
                let path = try ConfigurationError.string(file, at: "additional-information.ca-file")
                guard path.hasPrefix("/") else { throw ConfigurationError("additional-information.ca-file", "must be an absolute path") }
                certificateAuthorityFile = path
            }
        }
    }
}

/// Who may use a domain: user and group names.
public struct DomainAccess: Equatable, Sendable {
    public var users: [String]
    public var groups: [String]

    public init(users: [String] = [], groups: [String] = []) {
        self.users = users
        self.groups = groups
    }
}

extension DaemonConfiguration {
    /// Whether a user (by name, uid and group names) may use `domain`: root
    /// always; others when the domain's entry or the `*` entry names them or
    /// one of their groups.
    public func allows(user: String, uid: UInt32, groups: [String], domain: String) -> Bool {
        guard uid != 0 else { return true }
        return [access[domain], access["*"]].compactMap { $0 }.contains { entry in
            entry.users.contains(user) || !Set(entry.groups).isDisjoint(with: groups)
        }
    }
}

/// What is wrong in a configuration: the key's path (`aliases.corp`) and the problem.
public struct ConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    public var problem: String

    public init(_ path: String, _ problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { path.isEmpty ? problem : "\(path): \(problem)" }

    /// The mapping's members in order; an error naming `path` when it is not one.
    public static func members(_ value: JSONValue, at path: String) throws(ConfigurationError) -> [JSONMember] {
        guard case .object(let members) = value else { throw ConfigurationError(path, "must be a mapping") }
        return members
    }

    /// The mapping's values by key; an error for a key not in `allowed`.
    public static func object(_ value: JSONValue, at path: String, allowed: Set<String>) throws(ConfigurationError) -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for member in try members(value, at: path) {
            let here = path.isEmpty ? member.key : "\(path).\(member.key)"
            guard allowed.contains(member.key) else {
                throw ConfigurationError(here, "unknown key; known: \(allowed.sorted().joined(separator: ", "))")
            }
            result[member.key] = member.value
        }
        return result
    }

    /// The value as a string, or an error naming `path`.
    public static func string(_ value: JSONValue, at path: String) throws(ConfigurationError) -> String {
        guard case .string(let text) = value else { throw ConfigurationError(path, "must be a string") }
        return text
    }

    /// The value as a list of strings, or an error naming `path`.
    public static func strings(_ value: JSONValue, at path: String) throws(ConfigurationError) -> [String] {
        guard case .array(let items) = value else { throw ConfigurationError(path, "must be a list") }
        return try items.map { item throws(ConfigurationError) in try string(item, at: path) }
    }

    /// The value as true or false, or an error naming `path`.
    public static func bool(_ value: JSONValue, at path: String) throws(ConfigurationError) -> Bool {
        guard case .bool(let flag) = value else { throw ConfigurationError(path, "must be true or false") }
        return flag
    }

    /// The value as a finite number, or an error naming `path`.
    public static func number(_ value: JSONValue, at path: String) throws(ConfigurationError) -> Double {
        switch value {
        case .integer(let number): return Double(number)
        case .number(let number) where number.isFinite: return number
        default: throw ConfigurationError(path, "must be a number")
        }
    }

    /// 1 to 15 bytes, no '/', whitespace or ':' (what the kernel accepts as a link name).
    public static func interfaceName(_ name: String, at path: String) throws(ConfigurationError) -> String {
        guard (1...15).contains(name.utf8.count), name != ".", name != "..",
            name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: ":") })
        else {
            throw ConfigurationError(path, "\"\(name)\" is not an interface name")
        }
        return name
    }
}
