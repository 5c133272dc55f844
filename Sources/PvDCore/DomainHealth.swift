import PvDWire

/// One check of a domain's verification (`pvd verify`, after every apply):
/// what was checked, whether it passed, what was found, and when.
public struct HealthCheck: Equatable, Sendable {
    /// What a verification checks, in the order it reports.
    public enum Kind: String, CaseIterable, Sendable {
        /// /run/netns/NAME exists.
        case namespace
        /// Every address asked for is in the namespace, no longer tentative.
        case addresses
        /// Every route asked for (and the default route, with routers) is there.
        case routes
        /// resolv.conf names the DNS servers asked for.
        case resolvConf = "resolv.conf"
        /// Each router answers a Neighbor Solicitation on its uplink.
        case router
        /// Each DNS server answers a query sent from inside the domain.
        case dns
        /// The VPN client connected within its bound.
        case vpn
    }

    public var kind: Kind
    public var passed: Bool
    public var detail: String
    /// Seconds since the epoch when it concluded.
    public var time: Int64

    public init(_ kind: Kind, passed: Bool, _ detail: String, time: Int64 = 0) {
        self.kind = kind
        self.passed = passed
        self.detail = detail
        self.time = time
    }
}

/// What the kernel has for a domain, read back for its verification.
public struct ObservedDomain: Equatable, Sendable {
    public var namespaceExists = false
    /// The namespace's IPv6 addresses, each with whether it is usable (not
    /// tentative, not failed duplicate address detection).
    public var addresses: [IPv6Address: Bool] = [:]
    /// The destinations of the namespace's main routing table.
    public var routes: Set<IPv6Prefix> = []
    /// The `nameserver` lines of the domain's resolv.conf, as written.
    public var nameservers: [String] = []

    public init(namespaceExists: Bool = false, addresses: [IPv6Address: Bool] = [:], routes: Set<IPv6Prefix> = [], nameservers: [String] = []) {
        self.namespaceExists = namespaceExists
        self.addresses = addresses
        self.routes = routes
        self.nameservers = nameservers
    }
}

/// The kernel half of a verification, decided without the kernel: what
/// `wanted` asks for against what was `observed`.
public enum KernelVerification {
    /// The namespace, addresses, routes and resolv.conf checks; nil `wanted`
    /// (a VPN or bare namespace domain) checks the namespace alone.
    public static func checks(wanted: DomainSpec?, observed: ObservedDomain) -> [HealthCheck] {
        guard observed.namespaceExists else { return [HealthCheck(.namespace, passed: false, "the namespace does not exist")] }
        var results = [HealthCheck(.namespace, passed: true, "exists")]
        guard let wanted else { return results }
        let addresses = wanted.allAddresses
        let missing = addresses.filter { observed.addresses[$0] == nil }
        let tentative = addresses.filter { observed.addresses[$0] == false }
        if !missing.isEmpty {
            results.append(HealthCheck(.addresses, passed: false, "missing " + list(missing)))
        } else if !tentative.isEmpty {
            results.append(HealthCheck(.addresses, passed: false, "still tentative or duplicate: " + list(tentative)))
        } else {
            results.append(HealthCheck(.addresses, passed: true, addresses.isEmpty ? "none asked for" : list(addresses)))
        }
        let routes = wantedRoutes(wanted)
        let absent = routes.filter { !observed.routes.contains($0) }
        results.append(
            absent.isEmpty
                ? HealthCheck(.routes, passed: true, routes.isEmpty ? "none asked for" : list(routes))
                : HealthCheck(.routes, passed: false, "missing " + list(absent)))
        let servers = wanted.dnsServers.map(\.description)
        let unnamed = servers.filter { !observed.nameservers.contains($0) }
        results.append(
            unnamed.isEmpty
                ? HealthCheck(.resolvConf, passed: true, servers.isEmpty ? "no DNS server asked for" : "names " + servers.joined(separator: ", "))
                : HealthCheck(.resolvConf, passed: false, "does not name " + unnamed.joined(separator: ", ")))
        return results
    }

    /// The routes a spec makes inside its namespace: the default route when
    /// it has routers, its routes, and (macvlan) its on-link prefixes.
    static func wantedRoutes(_ spec: DomainSpec) -> [IPv6Prefix] {
        let routers = spec.routers + spec.otherUplinks.flatMap(\.routers)
        var routes = routers.isEmpty ? [] : [IPv6Prefix("::/0")!]
        routes += spec.routes
        if spec.attachment == .macvlan { routes += spec.onLinkPrefixes }
        return routes
    }

    private static func list<T: CustomStringConvertible>(_ items: [T]) -> String { items.map(\.description).joined(separator: ", ") }
}

extension ObservedDomain {
    /// At most this many addresses, routes and servers are read back from a state file, each.
    static let maximumEntries = 1024

    /// As a checkpoint keeps it.
    public var json: JSONValue {
        .object([
            JSONMember("namespace", .bool(namespaceExists)),
            JSONMember(
                "addresses",
                .object(addresses.sorted { $0.key.description < $1.key.description }.map { JSONMember($0.key.description, .bool($0.value)) })),
            JSONMember("routes", .array(routes.map(\.description).sorted().map(JSONValue.string))),
            JSONMember("nameservers", .array(nameservers.map(JSONValue.string))),
        ])
    }

    /// Reads one back from the state file, checking every member.
    public init(json: JSONValue, at path: String) throws(StateError) {
        let reader = StateReader(json, path: path)
        namespaceExists = try reader.bool("namespace")
        guard case .object(let entries)? = json["addresses"], case .array(let prefixes)? = json["routes"],
            case .array(let servers)? = json["nameservers"],
            max(entries.count, prefixes.count, servers.count) <= ObservedDomain.maximumEntries
        else { throw StateError("\(path): needs addresses, routes and nameservers, at most \(ObservedDomain.maximumEntries) each") }
        for entry in entries {
            guard let address = IPv6Address(entry.key), case .bool(let usable) = entry.value else {
                throw StateError("\(path).addresses: \(entry.key) is not an IPv6 address with a boolean")
            }
            addresses[address] = usable
        }
        for item in prefixes {
            guard case .string(let text) = item, let prefix = IPv6Prefix(text) else { throw StateError("\(path).routes: \(item.serialized) is not a prefix") }
            routes.insert(prefix)
        }
        for item in servers {
            guard case .string(let text) = item, text.utf8.count <= 64 else { throw StateError("\(path).nameservers: \(item.serialized) is not a server") }
            nameservers.append(text)
        }
    }

    /// How `self` differs from `before`, in words (empty: it does not).
    public func differences(from before: ObservedDomain) -> [String] {
        guard namespaceExists == before.namespaceExists else { return [namespaceExists ? "its namespace is back" : "its namespace is gone"] }
        var found: [String] = []
        let gone = before.addresses.keys.filter { addresses[$0] == nil }.map(\.description).sorted()
        let new = addresses.keys.filter { before.addresses[$0] == nil }.map(\.description).sorted()
        if !gone.isEmpty { found.append("addresses gone: " + gone.joined(separator: ", ")) }
        if !new.isEmpty { found.append("addresses added: " + new.joined(separator: ", ")) }
        let lostRoutes = before.routes.subtracting(routes).map(\.description).sorted()
        let newRoutes = routes.subtracting(before.routes).map(\.description).sorted()
        if !lostRoutes.isEmpty { found.append("routes gone: " + lostRoutes.joined(separator: ", ")) }
        if !newRoutes.isEmpty { found.append("routes added: " + newRoutes.joined(separator: ", ")) }
        if nameservers != before.nameservers {
            found.append("resolv.conf names \(nameservers.joined(separator: ", ")), not \(before.nameservers.joined(separator: ", "))")
        }
        return found
    }
}
