import ArgumentParser
import HostNet
import PvDCore
import PvDWire

/// The JSON form of a DomainSpec used by pvd-hostnet:
///
///     {"name": "corp", "uplink": "eth0", "attachment": "routed",   // or "macvlan"
///      "addresses": ["2001:db8:1::10"],            // or "prefixes": ["2001:db8:1::/64"]
///      "routers": ["fe80::1"], "on_link": ["2001:db8:1::/64"],
///      "routes": ["2001:db8:100::/48"], "mtu": 1480,
///      "dns": ["2001:db8:1::53"], "search": ["corp.example.com"],
///      "ipv4": true,                                // the host's IPv4 through NAT
///      "other_uplinks": [{"uplink": "wlan0", "addresses": […], "routers": […], "on_link": […]}]}
///
/// "prefixes" gives one stable address per prefix (StableAddress, with the
/// secret from "secret" or a fixed test secret).
extension DomainSpec {
    init(json: JSONValue) throws {
        func strings(_ key: String) throws -> [String] {
            guard let value = json[key] else { return [] }
            guard case .array(let items) = value else { throw ValidationError("\"\(key)\" must be an array of strings") }
            return try items.map { item in
                guard case .string(let text) = item else { throw ValidationError("\"\(key)\" must be an array of strings") }
                return text
            }
        }
        func parse<T>(_ key: String, _ make: (String) -> T?) throws -> [T] {
            try strings(key).map { text in
                guard let value = make(text) else { throw ValidationError("\"\(key)\": \(text) is not valid") }
                return value
            }
        }
        guard case .string(let name) = json["name"], case .string(let uplink) = json["uplink"] else {
            throw ValidationError("a domain needs \"name\" and \"uplink\" strings")
        }
        let secret: [UInt8]
        if case .string(let text) = json["secret"] { secret = Array(text.utf8) } else { secret = Array("pvd-hostnet".utf8) }
        var addresses = try parse("addresses") { IPv6Address($0) }
        addresses += try parse("prefixes") { IPv6Prefix($0) }.map { StableAddress.address(in: $0, domain: name, secret: secret) }
        var mtu: UInt32?
        if case .integer(let value) = json["mtu"] {
            guard (1280...65535).contains(value) else { throw ValidationError("\"mtu\" must be 1280 to 65535") }
            mtu = UInt32(value)
        }
        var attachment = DomainSpec.Attachment.routed
        if case .string(let text) = json["attachment"] {
            guard let value = DomainSpec.Attachment(rawValue: text) else {
                throw ValidationError("\"attachment\" must be \"routed\" or \"macvlan\"")
            }
            attachment = value
        }
        self.init(name: name, uplink: uplink, addresses: addresses,
                  routers: try parse("routers") { IPv6Address($0) },
                  onLinkPrefixes: try parse("on_link") { IPv6Prefix($0) },
                  routes: try parse("routes") { IPv6Prefix($0) }, mtu: mtu,
                  dnsServers: try parse("dns") { IPv6Address($0) },
                  searchDomains: try parse("search") { try? PvDWire.DomainName($0) })
        self.attachment = attachment
        if case .array(let items) = json["other_uplinks"] {
            otherUplinks = try items.map { item in
                guard case .object(let members) = item else { throw ValidationError("\"other_uplinks\" must be an array of objects") }
                let part = try DomainSpec(json: .object([JSONMember("name", .string(name))] + members))
                return UplinkSpec(uplink: part.uplink, addresses: part.addresses, routers: part.routers, onLinkPrefixes: part.onLinkPrefixes)
            }
        } else if json["other_uplinks"] != nil {
            throw ValidationError("\"other_uplinks\" must be an array of objects")
        }
        switch json["ipv4"] {
        case nil: break
        case .bool(let flag): ipv4 = flag
        default: throw ValidationError("\"ipv4\" must be true or false")
        }
    }

    var json: JSONValue {
        .object([
            JSONMember("name", .string(name)),
            JSONMember("uplink", .string(uplink)),
            JSONMember("attachment", .string(attachment.rawValue)),
            JSONMember("addresses", .array(addresses.map { .string($0.description) })),
            JSONMember("routers", .array(routers.map { .string($0.description) })),
            JSONMember("on_link", .array(onLinkPrefixes.map { .string($0.description) })),
            JSONMember("routes", .array(routes.map { .string($0.description) })),
            JSONMember("mtu", mtu.map { .integer(Int64($0)) } ?? .null),
            JSONMember("dns", .array(dnsServers.map { .string($0.description) })),
            JSONMember("search", .array(searchDomains.map { .string($0.description) })),
            JSONMember("ipv4", .bool(ipv4)),
            JSONMember("other_uplinks", .array(otherUplinks.map { part in
                .object([
                    JSONMember("uplink", .string(part.uplink)),
                    JSONMember("addresses", .array(part.addresses.map { .string($0.description) })),
                    JSONMember("routers", .array(part.routers.map { .string($0.description) })),
                    JSONMember("on_link", .array(part.onLinkPrefixes.map { .string($0.description) })),
                ])
            })),
        ])
    }
}

/// The specs in a JSON file holding one object or an array of them.
func readSpecs(_ path: String) throws -> [DomainSpec] {
    guard let text = HostFiles.read(path) else { throw failure("\(path): cannot read") }
    let data = Array(text.utf8)
    let document: JSONValue
    do { document = try JSONValue.parse(data) } catch { throw failure("\(path): \(error)") }
    do {
        if case .array(let items) = document { return try items.map(DomainSpec.init(json:)) }
        return [try DomainSpec(json: document)]
    } catch { throw failure("\(path): \(error)") }
}
