import PvDCore
import PvDWire

/// What `pvd announce` sends: options for every host, and PvDs, each in an
/// RA of its own (RFC 8801 lets one router advertise several). Pure: the
/// RAs it makes are checked by `RouterAnnouncementTests` and by scapy.
public struct RouterAnnouncement: Equatable, Sendable {
    /// Prefixes, DNS, routes and an MTU.
    public struct Options: Equatable, Sendable {
        public var prefixes: [IPv6Prefix] = []
        public var dnsServers: [IPv6Address] = []
        public var searchDomains: [DomainName] = []
        public var routes: [IPv6Prefix] = []
        public var mtu: UInt32?

        public init() {}

        public var isEmpty: Bool { prefixes.isEmpty && dnsServers.isEmpty && searchDomains.isEmpty && routes.isEmpty && mtu == nil }

        var ndOptions: [NDOption] {
            var options = prefixes.map { NDOption.prefixInformation(PrefixInformation(prefix: $0)) }
            if !dnsServers.isEmpty { options.append(.recursiveDNSServers(RecursiveDNSServers(lifetime: 1800, servers: dnsServers))) }
            if !searchDomains.isEmpty { options.append(.dnsSearchList(DNSSearchList(lifetime: 1800, domains: searchDomains))) }
            options += routes.map { NDOption.routeInformation(RouteInformation(prefix: $0)) }
            if let mtu { options.append(.mtu(mtu)) }
            return options
        }
    }

    /// One PvD: its option's fields and what goes inside it.
    public struct PvD: Equatable, Sendable {
        public var id: DomainName
        public var sequence: UInt16 = 0
        public var http = false
        public var legacy = false
        public var delay: UInt8 = 0
        /// The R flag: the RA header inside the PvD option too.
        public var raHeader = false
        public var options = Options()
        /// Where `pvd announce` serves this PvD's additional information (H flag set).
        public var information: InformationServer?

        public init(id: DomainName) { self.id = id }
    }

    /// A PvD's additional information (RFC 8801 §4), served by `pvd
    /// announce` at `https://<PvD ID>/.well-known/pvd` from a JSON file with
    /// a certificate for the PvD ID.
    public struct InformationServer: Equatable, Sendable {
        public var file: String
        public var certificate: String
        public var key: String
        /// The address to listen on (443); nil: every address.
        public var address: IPv6Address?

        public init(file: String, certificate: String, key: String, address: IPv6Address? = nil) {
            (self.file, self.certificate, self.key, self.address) = (file, certificate, key, address)
        }
    }

    /// For hosts that know no PvD (outside every PvD option).
    public var outside = Options()
    public var pvds: [PvD] = []
    public var routerLifetime: UInt16 = 1800

    public init() {}

    /// The RAs to send: one per PvD (the options for every host in each),
    /// or one without a PvD option. An RA that would not fit `linkMTU` (with
    /// its 40-octet IPv6 header) is split, the PvD option's header (ID,
    /// sequence, flags) repeated in every part, its nested options shared
    /// out among them, as RFC 8801 §3.4 allows. `linkLayerAddress`: the
    /// source link-layer address option, when sending on an interface.
    public func advertisements(routerLifetime lifetime: UInt16? = nil, linkMTU: Int = 1500, linkLayerAddress: [UInt8]? = nil) throws(EncodeError)
        -> [RouterAdvertisement]
    {
        let header = RouterAdvertisementHeader(routerLifetime: lifetime ?? routerLifetime)
        let common = (linkLayerAddress.map { [NDOption.sourceLinkLayerAddress($0[...])] } ?? []) + outside.ndOptions
        guard !pvds.isEmpty else { return [RouterAdvertisement(header: header, options: common)] }
        let room = linkMTU - 40
        var result: [RouterAdvertisement] = []
        for pvd in pvds {
            var remaining = pvd.options.ndOptions
            var first = true
            repeat {
                var part: [NDOption] = []
                func advertisement(_ nested: [NDOption]) -> RouterAdvertisement {
                    let option = PvDOption(
                        id: pvd.id, http: pvd.http, legacy: pvd.legacy, delay: pvd.delay, sequence: pvd.sequence,
                        routerAdvertisementHeader: pvd.raHeader ? header : nil, options: nested)
                    return RouterAdvertisement(header: header, options: (first ? common : []) + [.provisioningDomain(option)])
                }
                while let next = remaining.first, try advertisement(part + [next]).encoded().count <= room || part.isEmpty {
                    part.append(next)
                    remaining.removeFirst()
                }
                let ra = advertisement(part)
                guard try ra.encoded().count <= room else {
                    throw EncodeError(part: .option(OptionType.provisioningDomain), problem: "one option of \(pvd.id) does not fit a \(linkMTU)-octet link")
                }
                result.append(ra)
                first = false
            } while !remaining.isEmpty
        }
        return result
    }
}

extension RouterAnnouncement {
    /// Reads `pvd announce --config`'s YAML (as JSON values); errors name the key:
    ///
    ///     router-lifetime: 1800
    ///     outside: {prefixes: ["2001:db8:1::/64"], rdnss: ["2001:db8:1::53"]}
    ///     pvds:
    ///       - {id: corp.example.com, sequence: 3, h: true, prefixes: ["2001:db8:2::/64"], rdnss: ["2001:db8:2::53"]}
    ///       - {id: lab.example.com, l: true, prefixes: ["2001:db8:3::/64"]}
    ///       - id: info.example.com      # info sets h and serves the document
    ///         info: {file: info.json, certificate: cert.pem, key: key.pem, address: "2001:db8:4::80"}
    public init(json: JSONValue) throws(ConfigurationError) {
        self.init()
        if case .null = json { return }  // an empty file: one plain RA
        let top = try ConfigurationError.object(json, at: "", allowed: ["router-lifetime", "outside", "pvds"])
        if let value = top["router-lifetime"] {
            let number = try ConfigurationError.number(value, at: "router-lifetime")
            guard (0...9000).contains(number), number.rounded() == number else { throw ConfigurationError("router-lifetime", "0 to 9000 seconds") }
            routerLifetime = UInt16(number)
        }
        if let value = top["outside"] { outside = try Options(json: value, at: "outside") }
        if let value = top["pvds"] {
            guard case .array(let items) = value else { throw ConfigurationError("pvds", "must be a list") }
            for (index, item) in items.enumerated() {
                let path = "pvds[\(index)]"
                let keys: Set = ["id", "sequence", "h", "l", "delay", "ra-header", "prefixes", "rdnss", "dnssl", "routes", "mtu", "info"]
                let members = try ConfigurationError.object(item, at: path, allowed: keys)
                guard let idValue = members["id"] else { throw ConfigurationError(path, "a PvD needs its id (an FQDN)") }
                let text = try ConfigurationError.string(idValue, at: "\(path).id")
                var pvd: PvD
                do { pvd = PvD(id: try DomainName(text)) } catch { throw ConfigurationError("\(path).id", "\"\(text)\": \(error)") }
                if let value = members["sequence"] {
                    let number = try ConfigurationError.number(value, at: "\(path).sequence")
                    guard (0...65535).contains(number), number.rounded() == number else { throw ConfigurationError("\(path).sequence", "0 to 65535") }
                    pvd.sequence = UInt16(number)
                }
                if let value = members["delay"] {
                    let number = try ConfigurationError.number(value, at: "\(path).delay")
                    guard (0...15).contains(number), number.rounded() == number else { throw ConfigurationError("\(path).delay", "0 to 15") }
                    pvd.delay = UInt8(number)
                }
                if let value = members["h"] { pvd.http = try ConfigurationError.bool(value, at: "\(path).h") }
                if let value = members["l"] { pvd.legacy = try ConfigurationError.bool(value, at: "\(path).l") }
                if let value = members["ra-header"] { pvd.raHeader = try ConfigurationError.bool(value, at: "\(path).ra-header") }
                if let value = members["info"] {
                    pvd.information = try InformationServer(json: value, at: "\(path).info")
                    pvd.http = true
                }
                pvd.options = try Options(
                    json: .object(members.filter { ["prefixes", "rdnss", "dnssl", "routes", "mtu"].contains($0.key) }.map { JSONMember($0.key, $0.value) }),
                    at: path)
                pvds.append(pvd)
            }
        }
        try checkInformationServers()
    }
}

extension RouterAnnouncement.Options {
    init(json: JSONValue, at path: String) throws(ConfigurationError) {
        self.init()
        let members = try ConfigurationError.object(json, at: path, allowed: ["prefixes", "rdnss", "dnssl", "routes", "mtu"])
        func list<T>(_ key: String, _ what: String, _ make: (String) -> T?) throws(ConfigurationError) -> [T] {
            guard let value = members[key] else { return [] }
            return try ConfigurationError.strings(value, at: "\(path).\(key)").map { text throws(ConfigurationError) in
                guard let item = make(text) else { throw ConfigurationError("\(path).\(key)", "\"\(text)\" is not \(what)") }
                return item
            }
        }
        prefixes = try list("prefixes", "an IPv6 prefix (2001:db8::/64)") { IPv6Prefix($0) }
        dnsServers = try list("rdnss", "an IPv6 address") { IPv6Address($0) }
        searchDomains = try list("dnssl", "a domain name") { try? DomainName($0) }
        routes = try list("routes", "an IPv6 prefix") { IPv6Prefix($0) }
        if let value = members["mtu"] {
            let number = try ConfigurationError.number(value, at: "\(path).mtu")
            guard (1280...65535).contains(number), number.rounded() == number else { throw ConfigurationError("\(path).mtu", "1280 to 65535") }
            mtu = UInt32(number)
        }
    }
}

extension RouterAnnouncement.InformationServer {
    init(json: JSONValue, at path: String) throws(ConfigurationError) {
        let members = try ConfigurationError.object(json, at: path, allowed: ["file", "certificate", "key", "address"])
        func text(_ key: String) throws(ConfigurationError) -> String {
            guard let value = members[key] else { throw ConfigurationError(path, "needs file, certificate and key (\(key) is missing)") }
            let text = try ConfigurationError.string(value, at: "\(path).\(key)")
            guard !text.isEmpty, !text.utf8.contains(0) else { throw ConfigurationError("\(path).\(key)", "must be a path") }
            return text
        }
        self.init(file: try text("file"), certificate: try text("certificate"), key: try text("key"))
        if let value = members["address"] {
            let text = try ConfigurationError.string(value, at: "\(path).address")
            guard let address = IPv6Address(text) else { throw ConfigurationError("\(path).address", "\"\(text)\" is not an IPv6 address") }
            self.address = address
        }
    }
}

extension RouterAnnouncement {
    /// Two information servers cannot listen on the same address and port.
    public func checkInformationServers() throws(ConfigurationError) {
        let servers = pvds.compactMap(\.information)
        let addresses = servers.map { $0.address?.description ?? "::" }
        if Set(addresses).count < addresses.count || (servers.count > 1 && addresses.contains("::")) {
            throw ConfigurationError("pvds", "each PvD's info needs an address of its own (they all listen on port 443)")
        }
    }
}
