import PvDWire

/// What the table makes of its learnt domains: uplinks, addresses, probes and each domain's `DomainSpec`.
extension DomainTable {
    /// The interfaces the domain is attached to: the uplink it was first heard
    /// on, then, for an explicit PvD on a routed uplink, the other interfaces
    /// its routers are on (sorted; at most ``DomainNaming/maximumUplinks`` in all).
    func uplinks(of domain: LearntDomain) -> [String] {
        guard case .explicit = domain.key, (attachments[domain.uplink] ?? .routed) == .routed else { return [domain.uplink] }
        let others = Set(domain.routers.values.map(\.interface)).subtracting([domain.uplink]).sorted()
        return [domain.uplink] + others.prefix(DomainNaming.maximumUplinks - 1)
    }

    /// The address the domain takes in each autonomous /64 advertised on each
    /// of its uplinks (a prefix heard on several belongs to the first): stable
    /// (RFC 7217), the next one after each conflict, none after too many.
    /// Only prefixes of live default routers count: an address leaves through
    /// a router that advertised its prefix (RFC 8028), so when the last such
    /// router withdraws, the address goes.
    func candidateAddresses(of domain: LearntDomain, at now: Seconds) -> [(uplink: String, prefix: IPv6Prefix, address: IPv6Address)] {
        var taken: Set<IPv6Prefix> = []
        var candidates: [(uplink: String, prefix: IPv6Prefix, address: IPv6Address)] = []
        for uplink in uplinks(of: domain) {
            var prefixes: Set<IPv6Prefix> = []
            for router in domain.routers.values where router.interface == uplink && router.defaultUntil > now {
                prefixes.formUnion(router.addressPrefixes(at: now))
            }
            for prefix in prefixes.subtracting(taken).sorted(by: { $0.address < $1.address }) {
                taken.insert(prefix)
                let conflicts = domain.conflicts[prefix] ?? 0
                guard conflicts < DomainTable.maximumAddressConflicts else { continue }
                candidates.append((uplink, prefix, StableAddress.address(in: prefix, domain: domain.name, secret: secret, attempt: conflicts)))
            }
        }
        return candidates
    }

    /// Starts probing the domain's new candidate addresses (each on its
    /// uplink) and forgets the probes and verdicts of addresses it no longer wants.
    mutating func startProbes(
        _ domain: inout LearntDomain, _ candidates: [(uplink: String, prefix: IPv6Prefix, address: IPv6Address)],
        lasting probeTime: Seconds, at now: Seconds
    ) {
        let wanted = Set(candidates.map(\.address))
        domain.verified.formIntersection(wanted)
        domain.probing = domain.probing.filter { wanted.contains($0.key) }
        for candidate in candidates where !domain.verified.contains(candidate.address) && domain.probing[candidate.address] == nil {
            domain.probing[candidate.address] = now + probeTime
            pendingProbes[candidate.uplink, default: []].insert(candidate.address)
        }
    }

    /// The DomainSpec a learnt domain asks for at `now`: per uplink, one stable
    /// address per autonomous /64 (once probed, with duplicate address
    /// detection), the live default routers and the on-link prefixes; from
    /// all of them, the RIO routes, DNS and the smallest MTU; per address, the
    /// routers that advertised its prefix where not all of them did (RFC 8028).
    /// Lists are sorted so equal states compare equal, but DNS servers and
    /// search domains keep their routers' order (routers by uplink, then
    /// address). `candidates`: the domain's candidate addresses when the
    /// caller has them already.
    func spec(
        of domain: LearntDomain, at now: Seconds,
        candidates: [(uplink: String, prefix: IPv6Prefix, address: IPv6Address)]? = nil
    ) -> DomainSpec {
        let uplinks = uplinks(of: domain)
        let usable = (candidates ?? candidateAddresses(of: domain, at: now)).filter { addressProbeTime == nil || domain.verified.contains($0.address) }
        let routers = domain.routers.values.filter { uplinks.contains($0.interface) }
            .sorted { (uplinks.firstIndex(of: $0.interface)!, $0.address) < (uplinks.firstIndex(of: $1.interface)!, $1.address) }
        func part(_ uplink: String) -> UplinkSpec {
            let here = routers.filter { $0.interface == uplink }
            let onLink = Set(here.flatMap { $0.prefixes.filter { $0.value.validUntil > now && $0.value.onLink }.keys })
            let defaultRouters = here.filter { $0.defaultUntil > now }
            var part = UplinkSpec(
                uplink: uplink, addresses: usable.filter { $0.uplink == uplink }.map(\.address),
                routers: defaultRouters.map(\.address).sorted(),
                onLinkPrefixes: onLink.sorted { ($0.address, $0.length) < ($1.address, $1.length) })
            for candidate in usable where candidate.uplink == uplink {
                let advertisers = defaultRouters.filter { $0.addressPrefixes(at: now).contains(candidate.prefix) }.map(\.address).sorted()
                if advertisers != part.routers { part.nextHops[candidate.address] = advertisers }
            }
            return part
        }
        var routes: Set<IPv6Prefix> = []
        var servers: [IPv6Address] = []
        var search: [PvDWire.DomainName] = []
        for router in routers {
            routes.formUnion(router.routes.filter { $0.value > now }.keys)
            for server in router.dnsServers.live(at: now) where !servers.contains(server) { servers.append(server) }
            for name in router.searchDomains.live(at: now) where !search.contains(name) { search.append(name) }
        }
        let primary = part(domain.uplink)
        var spec = DomainSpec(
            name: domain.name, uplink: primary.uplink, addresses: primary.addresses, routers: primary.routers,
            onLinkPrefixes: primary.onLinkPrefixes,
            routes: routes.sorted { ($0.address, $0.length) < ($1.address, $1.length) },
            mtu: routers.compactMap(\.mtu).min(), dnsServers: servers, searchDomains: search)
        spec.nextHops = primary.nextHops
        spec.otherUplinks = uplinks.dropFirst().map(part)
        spec.attachment = attachments[domain.uplink] ?? .routed
        if spec.attachment == .routed { spec.ports = publishedPorts[domain.name] ?? [] }
        spec.ipv4 =
            spec.attachment == .routed && ipv4Uplinks.contains(domain.uplink)
            && ipv4Domains(on: domain.uplink).contains(domain.name)
        return spec
    }
}

extension DomainTable {
    /// Brings `host` in line with the domains named in `changed`: applies the
    /// desired state of those that exist, removes the others. Returns the
    /// failures by domain name; the rest still went through.
    public func push(_ changed: Set<String>, to host: any HostNetworking, at now: Seconds) -> [String: SystemError] {
        var failures: [String: SystemError] = [:]
        var gone: [String] = []
        for name in changed.sorted() {
            guard let spec = spec(named: name, at: now) else {
                gone.append(name)
                continue
            }
            do { try host.apply(spec) } catch { failures[name] = error }
        }
        if !gone.isEmpty {
            do { try host.remove(gone) } catch { for name in gone { failures[name] = error } }
        }
        return failures
    }
}
