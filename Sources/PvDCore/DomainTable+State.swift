import PvDWire

/// The table as JSON, for /run/pvd/state.json: written after every change, read
/// on start so a restarted (or killed) daemon carries on with what it knew.
/// Times are seconds on CLOCK_BOOTTIME, which a daemon restart does not reset;
/// an infinite lifetime is `null`.
extension DomainTable {
    public static let stateVersion: Int64 = 1

    public var state: JSONValue {
        func time(_ seconds: Seconds) -> JSONValue { seconds.isFinite ? .number(seconds) : .null }
        let entries: [JSONValue] = domains.values.sorted { $0.name < $1.name }.map { domain in
            let key = domain.key.json
            let routers: [JSONValue] = domain.routers.values.sorted { ($0.interface, $0.address) < ($1.interface, $1.address) }.map { router in
                .object([
                    JSONMember("interface", .string(router.interface)),
                    JSONMember("address", .string(router.address.description)),
                    JSONMember("default_until", time(router.defaultUntil)),
                    JSONMember("last_heard", time(router.lastHeard)),
                    JSONMember("mtu", router.mtu.map { .integer(Int64($0)) } ?? .null),
                    JSONMember(
                        "prefixes",
                        .array(
                            router.prefixes.sorted { $0.key.description < $1.key.description }.map {
                                .object([
                                    JSONMember("prefix", .string($0.key.description)), JSONMember("on_link", .bool($0.value.onLink)),
                                    JSONMember("autonomous", .bool($0.value.autonomous)), JSONMember("valid_until", time($0.value.validUntil)),
                                ])
                            })),
                    JSONMember(
                        "routes",
                        .array(
                            router.routes.sorted { $0.key.description < $1.key.description }.map {
                                .object([JSONMember("prefix", .string($0.key.description)), JSONMember("until", time($0.value))])
                            })),
                    JSONMember(
                        "dns",
                        .array(
                            router.dnsServers.entries.map {
                                .object([JSONMember("address", .string($0.key.description)), JSONMember("until", time($0.until))])
                            })),
                    JSONMember(
                        "search",
                        .array(
                            router.searchDomains.entries.map {
                                .object([JSONMember("name", .string($0.key.description)), JSONMember("until", time($0.until))])
                            })),
                ])
            }
            return .object([
                JSONMember("key", key),
                JSONMember("name", .string(domain.name)),
                JSONMember("uplink", .string(domain.uplink)),
                JSONMember("sequence", domain.sequence.map { .integer(Int64($0)) } ?? .null),
                JSONMember("h", .bool(domain.http)),
                JSONMember("l", .bool(domain.legacy)),
                JSONMember("delay", .integer(Int64(domain.delay))),
                JSONMember("orphaned_at", domain.orphanedAt.map { .number($0) } ?? .null),
                JSONMember("routers", .array(routers)),
                JSONMember("verified_addresses", .array(domain.verified.sorted().map { .string($0.description) })),
                JSONMember(
                    "address_conflicts",
                    .array(
                        domain.conflicts.sorted { $0.key.description < $1.key.description }.map {
                            .object([JSONMember("prefix", .string($0.key.description)), JSONMember("count", .integer(Int64($0.value)))])
                        })),
            ])
        }
        return .object([JSONMember("version", .integer(DomainTable.stateVersion)), JSONMember("domains", .array(entries))])
    }

    /// A table with the domains of a saved state; the limits still apply.
    /// A domain saved under another name (its alias changed) takes the name the
    /// configuration gives now. A document of another version or shape is
    /// refused; an entry that is not valid, or that no RA could have made now
    /// (its PvD ID or name refused), is dropped and `dropped` told why.
    public init(
        state: JSONValue, limits: DomainLimits = DomainLimits(), secret: [UInt8], gracePeriod: Seconds = 60,
        aliases: [String: PvDWire.DomainName] = [:], attachments: [String: DomainSpec.Attachment] = [:],
        addressProbeTime: Seconds? = nil, reservedNames: Set<String> = [],
        dropped: (StateError) -> Void = { _ in }
    ) throws(StateError) {
        self.init(
            limits: limits, secret: secret, gracePeriod: gracePeriod, aliases: aliases, attachments: attachments,
            addressProbeTime: addressProbeTime)
        self.reservedNames = reservedNames
        guard case .integer(DomainTable.stateVersion) = state["version"] else { throw StateError("unknown state version") }
        guard case .array(let entries) = state["domains"] else { throw StateError("no \"domains\" array") }
        for (index, entry) in entries.prefix(limits.maximumDomains).enumerated() {
            var domain: LearntDomain
            do { domain = try StateReader(entry, path: "domains[\(index)]").domain(in: self) } catch {
                dropped(error)
                continue
            }
            guard admissible(domain.key) else {
                dropped(StateError("domains[\(index)]: \(domain.name) is not a name a PvD may have here"))
                continue
            }
            if entry["verified_addresses"] == nil {
                // A state from before duplicate address detection: its addresses are in use already.
                domain.verified = Set(candidateAddresses(of: domain, at: -.infinity).map(\.address))
            }
            restore(domain)
        }
    }
}

extension PvDKey {
    /// The key as the state file holds it.
    var json: JSONValue {
        switch self {
        case .explicit(let id): .object([JSONMember("explicit", .string(id.description))])
        case .implicit(let interface, let router):
            .object([JSONMember("interface", .string(interface)), JSONMember("router", .string(router.description))])
        }
    }
}

/// A saved state that cannot be read back.
public struct StateError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Typed access to one JSON object of the state, with the path for errors.
struct StateReader {
    let value: JSONValue
    let path: String

    init(_ value: JSONValue, path: String) {
        self.value = value
        self.path = path
    }

    func fail(_ key: String, _ problem: String) -> StateError { StateError("\(path).\(key): \(problem)") }

    func string(_ key: String) throws(StateError) -> String {
        guard case .string(let text) = value[key] else { throw fail(key, "missing or not a string") }
        return text
    }
    func bool(_ key: String) throws(StateError) -> Bool {
        guard case .bool(let flag) = value[key] else { throw fail(key, "missing or not a boolean") }
        return flag
    }
    func optionalInteger(_ key: String, in range: ClosedRange<Int64>) throws(StateError) -> Int64? {
        switch value[key] {
        case .null, nil: return nil
        case .integer(let number) where range.contains(number): return number
        default: throw fail(key, "not an integer in \(range)")
        }
    }
    /// A time; null is infinity.
    func time(_ key: String) throws(StateError) -> Seconds {
        switch value[key] {
        case .null: return .infinity
        case .number(let number): return number
        case .integer(let number): return Seconds(number)
        default: throw fail(key, "missing or not a time")
        }
    }
    func address(_ key: String) throws(StateError) -> IPv6Address {
        guard let address = IPv6Address(try string(key)) else { throw fail(key, "not an IPv6 address") }
        return address
    }
    func prefix(_ key: String) throws(StateError) -> IPv6Prefix {
        guard let prefix = IPv6Prefix(try string(key)) else { throw fail(key, "not an IPv6 prefix") }
        return prefix
    }
    func objects(_ key: String) throws(StateError) -> [StateReader] {
        guard case .array(let items) = value[key] else { throw fail(key, "missing or not an array") }
        return items.enumerated().map { StateReader($0.element, path: "\(path).\(key)[\($0.offset)]") }
    }

    /// The PvD key under "key": {"explicit": ID} or {"interface": …, "router": …}.
    func pvdKey() throws(StateError) -> PvDKey {
        guard let keyValue = value["key"] else { throw fail("key", "missing") }
        let keyReader = StateReader(keyValue, path: "\(path).key")
        if case .string(let id) = keyValue["explicit"] {
            do { return .explicit(try PvDWire.DomainName(id)) } catch { throw keyReader.fail("explicit", "\(error)") }
        }
        let interface = try keyReader.string("interface")
        guard interface.utf8.count <= 15, !interface.isEmpty, !interface.contains("/") else { throw keyReader.fail("interface", "not an interface name") }
        return .implicit(interface: interface, router: try keyReader.address("router"))
    }

    func domain(in table: DomainTable) throws(StateError) -> LearntDomain {
        let limits = table.limits
        let key = try pvdKey()
        _ = try string("name")
        let uplink = try string("uplink")
        guard uplink.utf8.count <= 15, !uplink.isEmpty, !uplink.contains("/") else { throw fail("uplink", "not an interface name") }
        var domain = LearntDomain(key: key, name: table.name(for: key), uplink: uplink)
        domain.sequence = try optionalInteger("sequence", in: 0...65535).map { UInt16($0) }
        domain.http = try bool("h")
        domain.legacy = try bool("l")
        domain.delay = UInt8(try optionalInteger("delay", in: 0...15) ?? 0)
        if case .number(let time) = value["orphaned_at"] { domain.orphanedAt = time }
        for router in try objects("routers").prefix(limits.maximumRoutersPerDomain) {
            var state = RouterState(
                interface: try router.string("interface"), address: try router.address("address"),
                defaultUntil: try router.time("default_until"), lastHeard: try router.time("last_heard"))
            state.mtu = try router.optionalInteger("mtu", in: 1280...65535).map { UInt32($0) }
            for entry in try router.objects("prefixes").prefix(limits.maximumPrefixesPerDomain) {
                state.prefixes[try entry.prefix("prefix")] = RouterState.PrefixState(
                    onLink: try entry.bool("on_link"), autonomous: try entry.bool("autonomous"), validUntil: try entry.time("valid_until"))
            }
            for entry in try router.objects("routes").prefix(limits.maximumRoutesPerDomain) {
                state.routes[try entry.prefix("prefix")] = try entry.time("until")
            }
            for entry in try router.objects("dns").prefix(limits.maximumDNSServersPerDomain) {
                let server = try entry.address("address")
                guard DomainTable.isUsableDNSServer(server) else { throw entry.fail("address", "not a usable DNS server") }
                state.dnsServers.append(server, until: try entry.time("until"))
            }
            for entry in try router.objects("search").prefix(limits.maximumSearchDomainsPerDomain) {
                do { state.searchDomains.append(try PvDWire.DomainName(try entry.string("name")), until: try entry.time("until")) } catch let error
                    as StateError
                {
                    throw error
                } catch {
                    throw entry.fail("name", "\(error)")
                }
            }
            domain.routers["\(state.interface)%\(state.address)"] = state
        }
        if case .array(let items) = value["verified_addresses"] {
            for (index, item) in items.prefix(limits.maximumPrefixesPerDomain).enumerated() {
                guard case .string(let text) = item, let address = IPv6Address(text) else {
                    throw fail("verified_addresses[\(index)]", "not an IPv6 address")
                }
                domain.verified.insert(address)
            }
        } else if value["verified_addresses"] != nil {
            throw fail("verified_addresses", "not an array")
        }
        if value["address_conflicts"] != nil {
            for entry in try objects("address_conflicts").prefix(limits.maximumPrefixesPerDomain) {
                domain.conflicts[try entry.prefix("prefix")] = Int(try entry.optionalInteger("count", in: 1...1000) ?? 1)
            }
        }
        return domain
    }
}
