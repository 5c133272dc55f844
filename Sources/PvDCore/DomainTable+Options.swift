import PvDWire

/// What the table takes from an RA's options, one case per option, each
/// bounded by the table's limits.
extension DomainTable {
    /// Sets when each of `keys` expires (lifetime 0: removes them), holding at
    /// most `limit` entries; what does not fit is counted.
    mutating func refresh<Key: Hashable>(
        _ entries: inout [Key: Seconds], _ keys: [Key], lifetime: UInt32,
        limit: Int, at now: Seconds
    ) {
        for key in keys {
            if lifetime == 0 {
                entries.removeValue(forKey: key)
            } else if entries[key] != nil || entries.count < limit {
                entries[key] = lifetime == .max ? .infinity : now + Seconds(lifetime)
            } else {
                counters.refusedEntries += 1
            }
        }
    }

    /// Takes in the options of one RA (those outside the PvD option, then
    /// those inside) for one router. RDNSS and DNSSL entries keep the RA's order.
    mutating func apply(_ options: [NDOption], to router: inout RouterState, at now: Seconds) {
        func until(_ lifetime: UInt32) -> Seconds { lifetime == .max ? .infinity : now + Seconds(lifetime) }
        var servers: [(key: IPv6Address, lifetime: UInt32)] = []
        var search: [(key: PvDWire.DomainName, lifetime: UInt32)] = []
        for option in options {
            switch option {
            case .prefixInformation(let pio) where !DomainTable.isUsablePrefix(pio.prefix):
                counters.refusedPrefixes += 1
            case .prefixInformation(let pio):
                let prefix = pio.prefix
                if pio.validLifetime == 0 {
                    router.prefixes.removeValue(forKey: prefix)
                } else if router.prefixes[prefix] != nil || router.prefixes.count < limits.maximumPrefixesPerDomain {
                    router.prefixes[prefix] = RouterState.PrefixState(
                        onLink: pio.onLink, autonomous: pio.autonomous,
                        validUntil: until(pio.validLifetime))
                } else {
                    counters.refusedEntries += 1
                }
            case .routeInformation(let rio) where rio.prefix.address.isLinkLocal || rio.prefix.address.isMulticast:
                counters.refusedPrefixes += 1
            case .routeInformation(let rio) where rio.preference != .reserved:
                refresh(&router.routes, [rio.prefix], lifetime: rio.lifetime, limit: limits.maximumRoutesPerDomain, at: now)
            case .recursiveDNSServers(let rdnss):
                for server in rdnss.servers {
                    if DomainTable.isUsableDNSServer(server) {
                        servers.append((server, rdnss.lifetime))
                    } else {
                        counters.refusedDNSServers += 1
                    }
                }
            case .dnsSearchList(let dnssl):
                search += dnssl.domains.map { ($0, dnssl.lifetime) }
            case .mtu(let mtu) where (1280...65535).contains(mtu):
                router.mtu = mtu
            default:
                break
            }
        }
        counters.refusedEntries += router.dnsServers.refresh(servers, limit: limits.maximumDNSServersPerDomain, at: now)
        counters.refusedEntries += router.searchDomains.refresh(search, limit: limits.maximumSearchDomainsPerDomain, at: now)
    }

    /// Whether a Prefix Information option's prefix can be a domain's: not
    /// link-local or multicast (RFC 4861 and 4862 ignore those), and not
    /// inside ::/64 (the unspecified, loopback and IPv4-mapped addresses).
    public static func isUsablePrefix(_ prefix: IPv6Prefix) -> Bool {
        !(prefix.address.isLinkLocal || prefix.address.isMulticast || prefix.address.high == 0)
    }

    /// Whether a program inside a domain can send DNS queries to `server`: not
    /// multicast, unspecified or loopback, and not link-local (an RA carries no
    /// zone, and the router's link is not the domain's).
    public static func isUsableDNSServer(_ server: IPv6Address) -> Bool {
        !(server.isMulticast || server == .unspecified || server.isLoopback || server.isLinkLocal)
    }
}
