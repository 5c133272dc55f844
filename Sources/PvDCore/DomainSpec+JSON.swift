import PvDWire

/// DomainSpec as JSON — pvdd's state file (static domains), `pvd-hostnet`
/// and the D-Bus settings all use this form:
///
///     {"name": "corp", "uplink": "eth0", "attachment": "routed",   // or "macvlan"
///      "addresses": ["2001:db8:1::10"], "routers": ["fe80::1"],
///      "on_link": ["2001:db8:1::/64"], "routes": ["2001:db8:100::/48"], "mtu": 1480,
///      "dns": ["2001:db8:1::53"], "search": ["corp.example.com"], "ipv4": true,
///      "other_uplinks": [{"uplink": "wlan0", "addresses": […], "routers": […], "on_link": […]}],
///      "ports": [{"host": 8080, "domain": 80, "protocol": "tcp", "from": ["host"]}]}   // PublishedPort; only when any
extension DomainSpec {
    /// Reads a spec; every error names the key. Keys it does not know are left
    /// to the caller.
    public init(json: JSONValue) throws(ConfigurationError) {
        /// What each list holds, for an error that says why an item is not one.
        let expected = [
            "addresses": "an IPv6 address (a domain's own, without a prefix length: 2001:db8::5)",
            "routers": "an IPv6 address (a router's, on the uplink: fe80::1)", "on_link": "an IPv6 prefix (2001:db8::/64)",
            "routes": "an IPv6 prefix (2001:db8:100::/48)", "dns": "an IPv6 address", "search": "a domain name",
        ]
        func list<T>(_ key: String, _ make: (String) -> T?) throws(ConfigurationError) -> [T] {
            guard let value = json[key] else { return [] }
            return try ConfigurationError.strings(value, at: key).map { text throws(ConfigurationError) in
                guard let item = make(text) else { throw ConfigurationError(key, "\"\(text)\" is not \(expected[key] ?? "valid here")") }
                return item
            }
        }
        guard let nameValue = json["name"], let uplinkValue = json["uplink"] else {
            throw ConfigurationError("", "a domain needs \"name\" and \"uplink\"")
        }
        let name = try ConfigurationError.string(nameValue, at: "name")
        let uplink = try ConfigurationError.interfaceName(try ConfigurationError.string(uplinkValue, at: "uplink"), at: "uplink")
        var mtu: UInt32?
        if let value = json["mtu"], value != .null {
            let number = try ConfigurationError.number(value, at: "mtu")
            guard (1280...65535).contains(number), number.rounded() == number else { throw ConfigurationError("mtu", "must be 1280 to 65535") }
            mtu = UInt32(number)
        }
        self.init(
            name: name, uplink: uplink, addresses: try list("addresses") { IPv6Address($0) },
            routers: try list("routers") { IPv6Address($0) }, onLinkPrefixes: try list("on_link") { IPv6Prefix($0) },
            routes: try list("routes") { IPv6Prefix($0) }, mtu: mtu, dnsServers: try list("dns") { IPv6Address($0) },
            searchDomains: try list("search") { try? PvDWire.DomainName($0) })
        if let value = json["attachment"] {
            let text = try ConfigurationError.string(value, at: "attachment")
            guard let attachment = Attachment(rawValue: text) else { throw ConfigurationError("attachment", "must be routed or macvlan") }
            self.attachment = attachment
        }
        if let value = json["ipv4"] { ipv4 = try ConfigurationError.bool(value, at: "ipv4") }
        if let value = json["ports"] { ports = try PublishedPort.list(value, at: "ports") }
        if let value = json["other_uplinks"] {
            guard case .array(let items) = value else { throw ConfigurationError("other_uplinks", "must be a list") }
            otherUplinks = try items.map { item throws(ConfigurationError) in
                guard case .object(let members) = item else { throw ConfigurationError("other_uplinks", "must be a list of mappings") }
                let part = try DomainSpec(json: .object([JSONMember("name", .string(name))] + members))
                return UplinkSpec(uplink: part.uplink, addresses: part.addresses, routers: part.routers, onLinkPrefixes: part.onLinkPrefixes)
            }
        }
    }

    public var json: JSONValue {
        func strings<T: CustomStringConvertible>(_ items: [T]) -> JSONValue { .array(items.map { .string($0.description) }) }
        let published = ports.isEmpty ? [] : [JSONMember("ports", .array(ports.map(\.json)))]
        return .object(
            [
                JSONMember("name", .string(name)),
                JSONMember("uplink", .string(uplink)),
                JSONMember("attachment", .string(attachment.rawValue)),
                JSONMember("addresses", strings(addresses)),
                JSONMember("routers", strings(routers)),
                JSONMember("on_link", strings(onLinkPrefixes)),
                JSONMember("routes", strings(routes)),
                JSONMember("mtu", mtu.map { .integer(Int64($0)) } ?? .null),
                JSONMember("dns", strings(dnsServers)),
                JSONMember("search", strings(searchDomains)),
                JSONMember("ipv4", .bool(ipv4)),
                JSONMember(
                    "other_uplinks",
                    .array(
                        otherUplinks.map { part in
                            .object([
                                JSONMember("uplink", .string(part.uplink)), JSONMember("addresses", strings(part.addresses)),
                                JSONMember("routers", strings(part.routers)), JSONMember("on_link", strings(part.onLinkPrefixes)),
                            ])
                        })),
            ] + published)
    }
}
