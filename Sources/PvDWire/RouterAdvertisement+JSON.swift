extension RouterAdvertisementHeader {
    /// The header fields under stable snake_case keys.
    public var jsonMembers: [JSONMember] {
        [
            JSONMember("cur_hop_limit", .integer(Int64(curHopLimit))),
            JSONMember("managed", .bool(managed)),
            JSONMember("other", .bool(other)),
            JSONMember("home_agent", .bool(homeAgent)),
            JSONMember("preference", .string(preference.description)),
            JSONMember("proxy", .bool(proxy)),
            JSONMember("router_lifetime", .integer(Int64(routerLifetime))),
            JSONMember("reachable_time", .integer(Int64(reachableTime))),
            JSONMember("retrans_timer", .integer(Int64(retransTimer))),
        ]
    }
}

extension RouterAdvertisement {
    /// The RA as one JSON object: header fields, then `source_lla`, `mtu`,
    /// `prefixes`, `routes`, `rdnss`, `dnssl`, `unknown` and `pvd` (null when absent).
    /// Every key is always present, so the shape is stable.
    public var json: JSONValue {
        var members = header.jsonMembers
        members += NDOption.jsonMembers(options)
        members.append(JSONMember("pvd", pvd.map(\.json) ?? .null))
        return .object(members)
    }
}

extension PvDOption {
    /// `id`, `sequence`, `h`, `l`, `r`, `delay`, `ra_header` (null unless R),
    /// and `options`, which holds the nested options under the RA's keys.
    public var json: JSONValue {
        .object([
            JSONMember("id", .string(id.description)),
            JSONMember("sequence", .integer(Int64(sequence))),
            JSONMember("h", .bool(http)),
            JSONMember("l", .bool(legacy)),
            JSONMember("r", .bool(hasRouterAdvertisementHeader)),
            JSONMember("delay", .integer(Int64(delay))),
            JSONMember("ra_header", routerAdvertisementHeader.map { .object($0.jsonMembers) } ?? .null),
            JSONMember("options", .object(NDOption.jsonMembers(options))),
        ])
    }
}

extension NDOption {
    /// The options grouped by kind: `source_lla` and `mtu` (the first one, or
    /// null), then arrays for the rest in message order.
    static func jsonMembers(_ options: [NDOption]) -> [JSONMember] {
        var sourceLLA: JSONValue = .null
        var mtu: JSONValue = .null
        var prefixes: [JSONValue] = []
        var routes: [JSONValue] = []
        var rdnss: [JSONValue] = []
        var dnssl: [JSONValue] = []
        var unknown: [JSONValue] = []
        for option in options {
            switch option {
            case .sourceLinkLayerAddress(let body):
                if sourceLLA == .null { sourceLLA = .string(linkLayerText(body)) }
            case .mtu(let value):
                if mtu == .null { mtu = .integer(Int64(value)) }
            case .prefixInformation(let pio):
                prefixes.append(
                    .object([
                        JSONMember("prefix", .string(pio.prefix.description)),
                        JSONMember("on_link", .bool(pio.onLink)),
                        JSONMember("autonomous", .bool(pio.autonomous)),
                        JSONMember("router_address", .bool(pio.routerAddress)),
                        JSONMember("flags", .integer(Int64(pio.flags))),
                        JSONMember("valid_lifetime", .integer(Int64(pio.validLifetime))),
                        JSONMember("preferred_lifetime", .integer(Int64(pio.preferredLifetime))),
                    ]))
            case .routeInformation(let rio):
                routes.append(
                    .object([
                        JSONMember("prefix", .string(rio.prefix.description)),
                        JSONMember("preference", .string(rio.preference.description)),
                        JSONMember("lifetime", .integer(Int64(rio.lifetime))),
                    ]))
            case .recursiveDNSServers(let option):
                rdnss.append(
                    .object([
                        JSONMember("lifetime", .integer(Int64(option.lifetime))),
                        JSONMember("servers", .array(option.servers.map { .string($0.description) })),
                    ]))
            case .dnsSearchList(let option):
                dnssl.append(
                    .object([
                        JSONMember("lifetime", .integer(Int64(option.lifetime))),
                        JSONMember("domains", .array(option.domains.map { .string($0.description) })),
                    ]))
            case .unknown(let type, let body):
                unknown.append(
                    .object([
                        JSONMember("type", .integer(Int64(type))),
                        JSONMember("hex", .string(Hex.encode(body))),
                    ]))
            case .provisioningDomain:
                break
            }
        }
        return [
            JSONMember("source_lla", sourceLLA),
            JSONMember("mtu", mtu),
            JSONMember("prefixes", .array(prefixes)),
            JSONMember("routes", .array(routes)),
            JSONMember("rdnss", .array(rdnss)),
            JSONMember("dnssl", .array(dnssl)),
            JSONMember("unknown", .array(unknown)),
        ]
    }

    /// A link-layer address option body as `aa:bb:…`, trailing zero padding of
    /// longer bodies dropped only down to the 6 octets of an Ethernet address.
    public static func linkLayerText(_ body: ArraySlice<UInt8>) -> String {
        var octets = body
        while octets.count > 6, octets.last == 0 { octets = octets.dropLast() }
        return octets.map { Hex.encode([$0]) }.joined(separator: ":")
    }
}
