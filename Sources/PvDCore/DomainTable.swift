import PvDWire

/// The table of provisioning domains: turns observed RAs and the passage of
/// time into the desired state of every domain. Pure: no clock, no system.
public struct DomainTable: Sendable {
    public let limits: DomainLimits
    /// Secret for stable addresses (RFC 7217); the daemon keeps one per host.
    public let secret: [UInt8]
    /// How long a domain without routers stays (empty) before it is removed.
    public let gracePeriod: Seconds
    /// Names chosen by configuration for PvD IDs (`corp` for `corp.example.com`).
    public let aliases: [String: PvDWire.DomainName]
    /// How domains attach to each uplink; routed where not named.
    public let attachments: [String: DomainSpec.Attachment]
    /// How long a new address is probed (duplicate address detection) before
    /// its domain uses it; nil: used at once, without probing.
    public let addressProbeTime: Seconds?
    /// The uplinks that have IPv4 of their own (an address and a default
    /// route): only there can a domain get the host's IPv4 through NAT.
    public private(set) var ipv4Uplinks: Set<String> = []
    /// Names that static, VPN and namespace domains hold: a learnt domain
    /// never takes one (set by the daemon).
    public var reservedNames: Set<String> = []
    /// Ports of the host that lead to learnt domains, by name (set by the daemon).
    public var publishedPorts: [String: [PublishedPort]] = [:]
    /// After this many addresses of one prefix were found in use, the domain
    /// takes none in it (RFC 7217's IDGEN_RETRIES).
    public static let maximumAddressConflicts = 3
    public private(set) var domains: [PvDKey: LearntDomain] = [:]
    public internal(set) var counters = LimitCounters()
    private var buckets: [String: (tokens: Double, at: Seconds)] = [:]
    /// The desired state last reported for each domain, to tell what changed.
    private var published: [PvDKey: DomainSpec] = [:]
    /// The time of the last ``expire(at:)``: whatever runs out at or before
    /// it has been dealt with.
    private var expiredThrough: Seconds = -.infinity
    /// Addresses to solicit, by uplink, since the last ``takeProbes()``.
    var pendingProbes: [String: Set<IPv6Address>] = [:]

    public init(
        limits: DomainLimits = DomainLimits(), secret: [UInt8], gracePeriod: Seconds = 60,
        aliases: [String: PvDWire.DomainName] = [:], attachments: [String: DomainSpec.Attachment] = [:],
        addressProbeTime: Seconds? = nil
    ) {
        self.limits = limits
        self.secret = secret
        self.gracePeriod = gracePeriod
        self.aliases = aliases
        self.attachments = attachments
        self.addressProbeTime = addressProbeTime
    }

    /// The key of an RA: its first PvD option's ID, or (interface, source).
    public static func key(of ra: RouterAdvertisement, from source: IPv6Address, on interface: String) -> PvDKey {
        if let pvd = ra.pvd { return .explicit(pvd.id) }
        return .implicit(interface: interface, router: source)
    }

    /// A stable, readable name: the alias configured for an explicit PvD, or
    /// its PvD ID in lower case; for an implicit one, the interface and the
    /// router's address, e.g. `eth0-fe80-0-1` for fe80::1 on eth0.
    public func name(for key: PvDKey) -> String {
        if case .explicit(let id) = key, let alias = aliases.first(where: { $0.value == id })?.key { return alias }
        return DomainTable.name(for: key)
    }

    /// The name of `key` when no alias applies.
    public static func name(for key: PvDKey) -> String {
        switch key {
        case .explicit(let id):
            return id.description.lowercased()
        case .implicit(let interface, let router):
            let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
            var cleanInterface = String(
                decoding: interface.lowercased().utf8.map { allowed.contains($0) ? $0 : UInt8(ascii: "_") },
                as: UTF8.self)
            if cleanInterface.hasPrefix("-") { cleanInterface = "_" + cleanInterface.dropFirst() }
            let groups = router.description.split(separator: ":", omittingEmptySubsequences: false)
                .map { $0.isEmpty ? "0" : String($0) }
            return "\(cleanInterface)-\(groups.joined(separator: "-"))"
        }
    }

    /// Takes in one RA heard from `source` (a link-local address) on `interface`
    /// at `now`; returns the names of the domains whose desired state or PvD
    /// option (sequence number, flags) changed.
    public mutating func observe(
        _ ra: RouterAdvertisement, from source: IPv6Address, on interface: String,
        at now: Seconds
    ) -> Set<String> {
        guard admit(source: source, interface: interface, at: now) else { return [] }
        let key = DomainTable.key(of: ra, from: source, on: interface)
        let ipv4Before = ipv4Domains(on: interface)
        if domains[key] == nil {
            guard admissible(key) else {
                counters.refusedPvDs += 1
                return []
            }
            guard domains.count < limits.maximumDomains else {
                counters.refusedDomains += 1
                return []
            }
            domains[key] = LearntDomain(key: key, name: name(for: key), uplink: interface)
        }
        var domain = domains[key]!
        let optionBefore = (domain.sequence, domain.http, domain.legacy, domain.delay)
        let pvd = ra.pvd
        if let pvd {
            if let current = domain.sequence, pvd.sequence != current {
                guard DomainTable.isNewer(pvd.sequence, than: current) else { return [] }  // RFC 1982: an old RA
                domain.routers = [:]  // a new sequence number replaces the whole configuration
            }
            domain.sequence = pvd.sequence
            domain.http = pvd.http
            domain.legacy = pvd.legacy
            domain.delay = pvd.delay
        }
        let routerKey = "\(interface)%\(source)"
        if domain.routers[routerKey] == nil, domain.routers.count >= limits.maximumRoutersPerDomain {
            counters.refusedRouters += 1
            domains[key] = domain
            return republishIPv4(on: interface, before: ipv4Before, at: now)
        }
        // With the R flag the PvD's own RA header holds the router lifetime.
        let header = pvd?.routerAdvertisementHeader ?? ra.header
        var router = domain.routers[routerKey] ?? RouterState(interface: interface, address: source, defaultUntil: now, lastHeard: now)
        router.defaultUntil = now + Seconds(header.routerLifetime)
        router.lastHeard = now
        apply(ra.options + (pvd?.options ?? []), to: &router, at: now)
        if header.routerLifetime == 0 && router.prefixes.isEmpty && router.routes.isEmpty {
            domain.routers.removeValue(forKey: routerKey)  // withdrawn, nothing else left from it
        } else {
            domain.routers[routerKey] = router
        }
        domain.orphanedAt = domain.routers.isEmpty ? (domain.orphanedAt ?? now) : nil
        domains[key] = domain
        var changed: Set<String> = publish(key, at: now) ? [domain.name] : []
        if optionBefore != (domain.sequence, domain.http, domain.legacy, domain.delay) { changed.insert(domain.name) }
        changed.formUnion(republishIPv4(on: interface, before: ipv4Before, at: now))
        return changed
    }

    /// Tells which uplinks have IPv4 of their own now; returns the names of
    /// the domains whose desired state changed with it.
    public mutating func setIPv4Uplinks(_ uplinks: Set<String>, at now: Seconds) -> Set<String> {
        let flipped = uplinks.symmetricDifference(ipv4Uplinks)
        ipv4Uplinks = uplinks
        var changed: Set<String> = []
        for (key, domain) in domains where flipped.contains(domain.uplink) && publish(key, at: now) {
            changed.insert(domain.name)
        }
        return changed
    }

    /// Whether a new domain may be made for `key`: its PvD ID can name a
    /// domain, and its name is no other domain's (learnt, static, VPN or
    /// namespace). The first to take a name keeps it, whatever the hash order.
    func admissible(_ key: PvDKey) -> Bool {
        if case .explicit(let id) = key, DomainNaming.refusal(ofPvDID: id) != nil { return false }
        let name = name(for: key)
        return (try? DomainNaming.validate(name)) != nil && !reservedNames.contains(name)
            && !domains.values.contains { $0.name == name }
    }

    /// When the domains that get IPv4 on `interface` are no longer `before`
    /// (an L flag came or went, a domain appeared or lost its routers), every
    /// domain attached there is published again; returns those that changed.
    private mutating func republishIPv4(on interface: String, before: [String], at now: Seconds) -> Set<String> {
        guard ipv4Domains(on: interface) != before else { return [] }
        var changed: Set<String> = []
        for (key, domain) in domains where domain.uplink == interface && publish(key, at: now) {
            changed.insert(domain.name)
        }
        return changed
    }

    /// Lets time pass: drops what expired; removes domains orphaned for longer
    /// than the grace period. Returns the names whose desired state changed
    /// (removed ones included).
    public mutating func expire(at now: Seconds) -> Set<String> {
        expiredThrough = max(expiredThrough, now)
        var changed: Set<String> = []
        for (key, var domain) in domains {
            for (address, until) in domain.probing where until <= now {
                domain.probing.removeValue(forKey: address)
                domain.verified.insert(address)  // nobody answered in time
            }
            for (routerKey, var router) in domain.routers {
                router.prefixes = router.prefixes.filter { $0.value.validUntil > now }
                router.routes = router.routes.filter { $0.value > now }
                router.dnsServers.removeExpired(at: now)
                router.searchDomains.removeExpired(at: now)
                if router.defaultUntil <= now, router.prefixes.isEmpty, router.routes.isEmpty {
                    domain.routers.removeValue(forKey: routerKey)
                } else {
                    domain.routers[routerKey] = router
                }
            }
            if domain.routers.isEmpty {
                domain.orphanedAt = domain.orphanedAt ?? now
                if now - domain.orphanedAt! >= gracePeriod {
                    domains.removeValue(forKey: key)
                    published.removeValue(forKey: key)
                    changed.insert(domain.name)
                    continue
                }
            }
            domains[key] = domain
            if publish(key, at: now) { changed.insert(domain.name) }
        }
        // A second look: a domain that went may have passed IPv4 on to another.
        for (key, domain) in domains where publish(key, at: now) {
            changed.insert(domain.name)
        }
        return changed
    }

    /// When the domain will be removed if nothing new is heard: its grace
    /// period after its last router entry runs out (nil: never, an infinite lifetime).
    public func removalTime(of domain: LearntDomain) -> Seconds? {
        if let orphaned = domain.orphanedAt { return orphaned + gracePeriod }
        var last: Seconds = 0
        for router in domain.routers.values {
            last = max(last, router.defaultUntil, router.prefixes.values.map(\.validUntil).max() ?? 0, router.routes.values.max() ?? 0)
        }
        return last.isFinite ? last + gracePeriod : nil
    }

    /// When ``expire(at:)`` has something to do next: the earliest time at
    /// which something of the table runs out that the last expiry did not
    /// deal with yet. It may be past already (a probe ended while other
    /// events came first): the caller's timer then fires at once. Times the
    /// last expiry dealt with are not offered again: a router with lifetime 0
    /// whose prefixes stay valid keeps its past `defaultUntil`, and a timer
    /// armed for it would fire at once, for ever.
    public func nextExpiry() -> Seconds? {
        var next: Seconds?
        func consider(_ time: Seconds) {
            guard time > expiredThrough else { return }
            next = min(next ?? time, time)
        }
        for domain in domains.values {
            if let orphaned = domain.orphanedAt { consider(orphaned + gracePeriod) }
            domain.probing.values.forEach(consider)
            for router in domain.routers.values {
                consider(router.defaultUntil)
                for prefix in router.prefixes.values { consider(prefix.validUntil) }
                router.routes.values.forEach(consider)
                router.dnsServers.entries.map(\.until).forEach(consider)
                router.searchDomains.entries.map(\.until).forEach(consider)
            }
        }
        return next
    }

    /// The desired host state of the domain named `name`, on its first interface.
    public func spec(named name: String, at now: Seconds) -> DomainSpec? {
        domains.values.first { $0.name == name }.map { spec(of: $0, at: now) }
    }

    /// The desired state of every domain.
    public func specs(at now: Seconds) -> [DomainSpec] {
        domains.values.map { spec(of: $0, at: now) }.sorted { $0.name < $1.name }
    }

    /// The explicit PvDs that announce additional information (H flag) and
    /// have an address to fetch it from, with the PIO prefixes they advertise.
    public func additionalInformationCandidates(at now: Seconds) -> [AdditionalInformationTable.Candidate] {
        domains.values.compactMap { domain in
            guard case .explicit(let id) = domain.key, domain.http, let sequence = domain.sequence,
                !spec(of: domain, at: now).allAddresses.isEmpty
            else { return nil }
            let advertised = Set(
                domain.routers.values
                    .flatMap { $0.prefixes.filter { $0.value.validUntil > now }.keys })
            return AdditionalInformationTable.Candidate(
                name: domain.name, id: id, sequence: sequence, delay: domain.delay,
                prefixes: advertised.sorted { ($0.address, $0.length) < ($1.address, $1.length) })
        }.sorted { $0.name < $1.name }
    }

    /// The addresses to probe, by uplink, since the last call: the daemon sends
    /// a Neighbor Solicitation for each.
    public mutating func takeProbes() -> [String: [IPv6Address]] {
        defer { pendingProbes = [:] }
        return pendingProbes.mapValues { $0.sorted() }
    }

    /// Another node answered for `address` on `interface` while a domain was
    /// probing it: the domain moves on to its next address in that prefix
    /// (RFC 7217), or gives the prefix up after too many conflicts. Nil when
    /// no probe was waiting for this answer.
    public mutating func addressInUse(_ address: IPv6Address, on interface: String, at now: Seconds) -> AddressConflict? {
        guard var domain = domains.values.first(where: { $0.probing[address] != nil }),
            let prefix = candidateAddresses(of: domain, at: now)
                .first(where: { $0.address == address && $0.uplink == interface })?.prefix
        else { return nil }
        domain.probing.removeValue(forKey: address)
        domain.conflicts[prefix, default: 0] += 1
        domains[domain.key] = domain
        _ = publish(domain.key, at: now)
        return AddressConflict(domain: domain.name, address: address, prefix: prefix, conflicts: domain.conflicts[prefix]!)
    }

    /// RFC 8801 §3.4.2 for DHCPv4: on `interface`, the explicit PvDs with the L
    /// flag get the host's IPv4; when there is none, the interface's implicit PvDs do.
    public func ipv4Domains(on interface: String) -> [String] {
        let here = domains.values.filter { $0.interfaces.contains(interface) }
        let legacy = here.filter { if case .explicit = $0.key { $0.legacy } else { false } }
        let chosen = legacy.isEmpty ? here.filter { if case .implicit = $0.key { true } else { false } } : legacy
        return chosen.map(\.name).sorted()
    }

    /// RFC 1982 serial number arithmetic on 16 bits.
    public static func isNewer(_ candidate: UInt16, than current: UInt16) -> Bool {
        let difference = candidate &- current
        return difference != 0 && difference < 0x8000
    }

    // MARK: Internals

    /// Puts a domain read from a saved state into the table.
    mutating func restore(_ domain: LearntDomain) {
        domains[domain.key] = domain
    }

    /// Records the domain's desired state; true when it differs from the last one.
    private mutating func publish(_ key: PvDKey, at now: Seconds) -> Bool {
        guard var domain = domains[key] else { return published.removeValue(forKey: key) != nil }
        let candidates = candidateAddresses(of: domain, at: now)
        if let addressProbeTime {
            startProbes(&domain, candidates, lasting: addressProbeTime, at: now)
            domains[key] = domain
        }
        let current = spec(of: domain, at: now, candidates: candidates)
        defer { published[key] = current }
        return published[key] != current
    }

    /// Token bucket per source: false (and counted) when the source sends too fast.
    private mutating func admit(source: IPv6Address, interface: String, at now: Seconds) -> Bool {
        let key = "\(interface)%\(source)"
        var bucket = buckets[key] ?? (tokens: limits.routerAdvertisementBurst, at: now)
        bucket.tokens = min(limits.routerAdvertisementBurst, bucket.tokens + (now - bucket.at) * limits.routerAdvertisementsPerSecond)
        bucket.at = now
        guard bucket.tokens >= 1 else {
            buckets[key] = bucket
            counters.rateLimitedRAs += 1
            return false
        }
        bucket.tokens -= 1
        if buckets[key] == nil, buckets.count >= limits.maximumDomains * limits.maximumRoutersPerDomain {
            // Bounded too: forget sources that have refilled their bucket.
            buckets = buckets.filter { $0.value.tokens < limits.routerAdvertisementBurst }
        }
        buckets[key] = bucket
        return true
    }
}
