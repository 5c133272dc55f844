import PvDCore
import PvDWire

/// A lab of network namespaces for `pvd lab` (docs/labs.md): Ethernet links,
/// routers that send RAs with `pvd announce` and run a DNS server, an
/// upstream network behind every router, hosts (PvD-unaware kernels, or
/// running pvdd) and OpenVPN servers. Every name it makes carries the lab's
/// name, so that `pvd lab down` finds what exists. Pure: ``plan(now:tools:)``
/// says what `pvd lab up` makes, checked by `LabTopologyTests`.
public struct LabTopology: Equatable, Sendable {
    /// A router on a link: its address there (and so its prefix), a DNS
    /// server, and what it announces.
    public struct Router: Equatable, Sendable {
        public var name: String
        public var link: String
        public var address: IPv6Address
        public var prefix: IPv6Prefix
        public var dns: DNSServer?
        /// `pvd announce --config` as given; `info` entries completed by the lab.
        public var announcement: RouterAnnouncement
        var announcementJSON: JSONValue
        /// What a PvD's `info.document` adds to the document the lab writes
        /// (dnsZones, noInternet, proxies, …), by PvD ID.
        public var documents: [String: [JSONMember]] = [:]
    }

    /// A DNS server (Debian's dnsmasq) answering for a few names only.
    public struct DNSServer: Equatable, Sendable {
        public var address: String
        /// Names and their addresses (IPv6 or IPv4), in the file's order.
        public var hosts: [(name: DomainName, address: String)]

        public static func == (a: DNSServer, b: DNSServer) -> Bool {
            a.address == b.address && a.hosts.map(\.name) == b.hosts.map(\.name) && a.hosts.map(\.address) == b.hosts.map(\.address)
        }
    }

    /// A host on a link: the kernel alone, or pvdd with these aliases.
    public struct Host: Equatable, Sendable {
        public var name: String
        public var link: String
        public var runsPvdd: Bool
        public var aliases: [JSONMember]
    }

    /// An OpenVPN server (static key, point to point) in the upstream
    /// network, and the pvdd host that has it as a VPN domain.
    public struct VPNServer: Equatable, Sendable {
        public var name: String
        public var server: IPv6Address
        public var host: String
        public var search: DomainName?
        public var hosts: [(name: DomainName, address: String)]

        public static func == (a: VPNServer, b: VPNServer) -> Bool {
            a.name == b.name && a.server == b.server && a.host == b.host && a.search == b.search && a.hosts.map(\.name) == b.hosts.map(\.name)
                && a.hosts.map(\.address) == b.hosts.map(\.address)
        }
    }

    public var name: String
    public var links: [String]
    /// Addresses of the upstream network (a namespace every router reaches).
    public var upstream: [IPv6Address]
    public var routers: [Router]
    public var hosts: [Host]
    public var vpns: [VPNServer]

    /// Where `pvd lab` keeps a lab's files: configurations, certificates, logs.
    public var directory: String { "\(Paths.labs)/\(name)" }
    /// The namespace of node `node` (a router, a host, `links`, `upstream`).
    public func namespace(_ node: String) -> String { "\(name)-\(node)" }
    /// Every namespace the lab makes.
    public var namespaces: [String] {
        [namespace(LabTopology.switchNode), namespace(LabTopology.upstreamNode)] + routers.map { namespace($0.name) } + hosts.map { namespace($0.name) }
    }
    /// The bridges live here, so the host's own namespace is never touched.
    public static let switchNode = "links"
    public static let upstreamNode = "upstream"

    /// A lab's name: 1 to 12 lower-case letters and digits, a letter first
    /// (not `pvd`: pvdd's domains are `pvd-…`).
    public static func isValidName(_ name: String) -> Bool {
        name != "pvd" && (1...12).contains(name.utf8.count) && name.utf8.first.map { $0 >= 0x61 && $0 <= 0x7A } == true
            && name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) }
    }
}

extension LabTopology {
    /// Reads a lab file (as JSON values); errors name the key.
    public init(json: JSONValue) throws(ConfigurationError) {
        let top = try ConfigurationError.object(json, at: "", allowed: ["name", "links", "upstream", "routers", "hosts", "vpns"])
        guard let nameValue = top["name"] else { throw ConfigurationError("name", "a lab needs a name (it prefixes everything it makes)") }
        name = try ConfigurationError.string(nameValue, at: "name")
        guard LabTopology.isValidName(name) else { throw ConfigurationError("name", "\"\(name)\": 1 to 12 lower-case letters and digits, a letter first") }
        links = try top["links"].map { value throws(ConfigurationError) in try ConfigurationError.strings(value, at: "links") } ?? []
        for (index, link) in links.enumerated() { try LabTopology.checkNode(link, at: "links[\(index)]") }
        guard Set(links).count == links.count else { throw ConfigurationError("links", "a link is named twice") }
        upstream = try top["upstream"].map { value throws(ConfigurationError) in try LabTopology.addresses(value, at: "upstream") } ?? []
        let directory = "\(Paths.labs)/\(name)"
        routers = try LabTopology.list(top["routers"], at: "routers") { value, path throws(ConfigurationError) in
            try Router(json: value, at: path, directory: directory)
        }
        hosts = try LabTopology.list(top["hosts"], at: "hosts") { value, path throws(ConfigurationError) in try Host(json: value, at: path) }
        vpns = try LabTopology.list(top["vpns"], at: "vpns") { value, path throws(ConfigurationError) in try VPNServer(json: value, at: path) }
        try check()
    }

    /// What holds between the parts: names unique, links known, prefixes disjoint.
    private func check() throws(ConfigurationError) {
        var nodes: Set = [LabTopology.switchNode, LabTopology.upstreamNode]
        for (path, node, link) in routers.enumerated().map({ ("routers[\($0)]", $1.name, $1.link) })
            + hosts.enumerated().map({ ("hosts[\($0)]", $1.name, $1.link) })
        {
            guard nodes.insert(node).inserted else {
                throw ConfigurationError(
                    "\(path).name", "\"\(node)\" is taken (names are unique among routers and hosts; links and upstream are the lab's own)")
            }
            guard links.contains(link) else { throw ConfigurationError("\(path).link", "\"\(link)\" is not one of the links") }
        }
        var prefixes: [IPv6Prefix: String] = [:]
        for router in routers {
            for prefix in router.prefixes {
                if let other = prefixes.updateValue(router.name, forKey: prefix), other != router.name {
                    throw ConfigurationError("routers", "\(other) and \(router.name) both route \(prefix) (the upstream routes a prefix to one router)")
                }
            }
        }
        var vpnNames: Set<String> = []
        for (index, vpn) in vpns.enumerated() {
            guard vpnNames.insert(vpn.name).inserted else { throw ConfigurationError("vpns[\(index)].name", "\"\(vpn.name)\" is named twice") }
            guard hosts.contains(where: { $0.name == vpn.host && $0.runsPvdd }) else {
                throw ConfigurationError("vpns[\(index)].host", "\"\(vpn.host)\" is not a host that runs pvdd")
            }
        }
        guard vpns.count <= 200 else { throw ConfigurationError("vpns", "at most 200") }
        guard Set(vpns.map(\.server)).count == vpns.count else { throw ConfigurationError("vpns", "each VPN server needs an address of its own") }
    }

    /// A node or link name: 1 to 12 lower-case letters and digits, a letter
    /// first (an interface name is built from it).
    static func checkNode(_ name: String, at path: String) throws(ConfigurationError) {
        guard isValidName(name), name != switchNode, name != upstreamNode else {
            throw ConfigurationError(path, "\"\(name)\": 1 to 12 lower-case letters and digits, a letter first (not links or upstream)")
        }
    }

    static func list<T>(_ value: JSONValue?, at path: String, _ make: (JSONValue, String) throws(ConfigurationError) -> T) throws(ConfigurationError) -> [T] {
        guard let value else { return [] }
        guard case .array(let items) = value else { throw ConfigurationError(path, "must be a list") }
        return try items.enumerated().map { (index, item) throws(ConfigurationError) in try make(item, "\(path)[\(index)]") }
    }

    static func addresses(_ value: JSONValue, at path: String) throws(ConfigurationError) -> [IPv6Address] {
        try ConfigurationError.strings(value, at: path).map { text throws(ConfigurationError) in
            guard let address = IPv6Address(text) else { throw ConfigurationError(path, "\"\(text)\" is not an IPv6 address") }
            return address
        }
    }

    /// `{name: address, …}`: addresses IPv6 or dotted IPv4, for dnsmasq's host records.
    static func records(_ value: JSONValue, at path: String) throws(ConfigurationError) -> [(name: DomainName, address: String)] {
        try ConfigurationError.members(value, at: path).map { member throws(ConfigurationError) in
            let here = "\(path).\(member.key)"
            let name: DomainName
            do { name = try DomainName(member.key) } catch { throw ConfigurationError(here, "\"\(member.key)\" is not a domain name: \(error)") }
            let address = try ConfigurationError.string(member.value, at: here)
            guard IPv6Address(address) != nil || isIPv4(address) else { throw ConfigurationError(here, "\"\(address)\" is not an IP address") }
            return (name, address)
        }
    }

    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { $0.count <= 3 && !$0.isEmpty && $0.allSatisfy(\.isASCII) && (UInt8($0) != nil) }
    }
}

extension LabTopology.Router {
    init(json: JSONValue, at path: String, directory: String) throws(ConfigurationError) {
        let members = try ConfigurationError.object(json, at: path, allowed: ["name", "link", "address", "dns", "announce"])
        func required(_ key: String) throws(ConfigurationError) -> String {
            guard let value = members[key] else { throw ConfigurationError(path, "a router needs \(key)") }
            return try ConfigurationError.string(value, at: "\(path).\(key)")
        }
        name = try required("name")
        try LabTopology.checkNode(name, at: "\(path).name")
        link = try required("link")
        let text = try required("address")
        let parts = text.split(separator: "/")
        guard parts.count == 2, let address = IPv6Address(parts[0]), let length = Int(parts[1]), let prefix = IPv6Prefix(address: address, length: length),
            length >= 16, length <= 64, !address.description.hasPrefix("fe80")
        else { throw ConfigurationError("\(path).address", "\"\(text)\" is not a global address with its prefix length, 16 to 64 (2001:db8:1::1/64)") }
        (self.address, self.prefix) = (address, prefix)
        if let value = members["dns"] {
            let dns = try ConfigurationError.object(value, at: "\(path).dns", allowed: ["address", "hosts"])
            guard let addressValue = dns["address"] else { throw ConfigurationError("\(path).dns", "needs the server's address") }
            let text = try ConfigurationError.string(addressValue, at: "\(path).dns.address")
            guard let address = IPv6Address(text) else { throw ConfigurationError("\(path).dns.address", "\"\(text)\" is not an IPv6 address") }
            self.dns = LabTopology.DNSServer(
                address: address.description,
                hosts: try dns["hosts"].map { value throws(ConfigurationError) in try LabTopology.records(value, at: "\(path).dns.hosts") } ?? [])
        }
        // The lab completes each PvD's info with a document and a certificate it makes.
        (announcementJSON, documents) = try LabTopology.completingInformation(members["announce"] ?? .null, router: name, directory: directory)
        do { announcement = try RouterAnnouncement(json: announcementJSON) } catch {
            throw ConfigurationError(error.path.isEmpty ? "\(path).announce" : "\(path).announce.\(error.path)", error.problem)
        }
    }

    /// The prefixes the upstream routes to this router: its own and what it announces.
    public var prefixes: [IPv6Prefix] {
        var result = [prefix]
        for prefix in announcement.outside.prefixes + announcement.pvds.flatMap(\.options.prefixes) where !result.contains(prefix) {
            result.append(prefix)
        }
        return result
    }

    /// The addresses it has on its link besides its own: its DNS server's and its information servers'.
    public var extraAddresses: [IPv6Address] {
        var result: [IPv6Address] = []
        let candidates = (dns.flatMap { IPv6Address($0.address) }.map { [$0] } ?? []) + announcement.pvds.compactMap { $0.information?.address }
        for candidate in candidates where candidate != address && !result.contains(candidate) { result.append(candidate) }
        return result
    }
}

extension LabTopology {
    /// A lab PvD's `info` gives at most an address and what its document
    /// adds (`document`, checked as the additional information it becomes):
    /// the document, the certificate and its key are the lab's
    /// (``informationFiles(router:id:directory:)``).
    static func completingInformation(
        _ json: JSONValue, router: String, directory: String
    ) throws(ConfigurationError) -> (JSONValue, [String: [JSONMember]]) {
        guard case .object(var top) = json, let index = top.firstIndex(where: { $0.key == "pvds" }), case .array(var pvds) = top[index].value else {
            return (json, [:])
        }
        var documents: [String: [JSONMember]] = [:]
        for (pvdIndex, pvd) in pvds.enumerated() {
            guard case .object(var members) = pvd, let infoIndex = members.firstIndex(where: { $0.key == "info" }),
                case .string(let id)? = pvd["id"]
            else { continue }
            let path = "pvds[\(pvdIndex)].info"
            let given = try ConfigurationError.object(members[infoIndex].value, at: path, allowed: ["address", "document"])
            if let document = given["document"] {
                guard case .object(let added) = document, !added.contains(where: { ["identifier", "expires", "prefixes"].contains($0.key) }) else {
                    throw ConfigurationError("\(path).document", "a mapping of keys besides identifier, expires and prefixes (the lab writes those)")
                }
                let sample = JSONValue.object(
                    [JSONMember("identifier", .string(id)), JSONMember("expires", .string("2099-01-01T00:00:00Z")), JSONMember("prefixes", .array([]))]
                        + added)
                do { _ = try PvDAdditionalInformation.parse(Array(sample.serialized.utf8)) } catch {
                    throw ConfigurationError("\(path).document", error.description)
                }
                documents[id] = added
            }
            let files = informationFiles(router: router, id: id, directory: directory)
            members[infoIndex].value = .object(
                [JSONMember("file", .string(files.document)), JSONMember("certificate", .string(files.certificate)), JSONMember("key", .string(files.key))]
                    + (given["address"].map { [JSONMember("address", $0)] } ?? []))
            pvds[pvdIndex] = .object(members)
        }
        top[index].value = .array(pvds)
        return (.object(top), documents)
    }

    /// Where a PvD's information document, certificate and key are (the lab makes them).
    static func informationFiles(router: String, id: String, directory: String) -> (document: String, certificate: String, key: String) {
        let base = "\(directory)/info/\(router)-\(id)"
        return (base + ".json", base + ".crt", base + ".key")
    }
}

extension LabTopology.Host {
    init(json: JSONValue, at path: String) throws(ConfigurationError) {
        let members = try ConfigurationError.object(json, at: path, allowed: ["name", "link", "pvdd"])
        guard let nameValue = members["name"], let linkValue = members["link"] else { throw ConfigurationError(path, "a host needs name and link") }
        name = try ConfigurationError.string(nameValue, at: "\(path).name")
        try LabTopology.checkNode(name, at: "\(path).name")
        link = try ConfigurationError.string(linkValue, at: "\(path).link")
        runsPvdd = false
        aliases = []
        switch members["pvdd"] {
        case nil, .bool(false)?: break
        case .bool(true)?: runsPvdd = true
        case let value?:
            let settings = try ConfigurationError.object(value, at: "\(path).pvdd", allowed: ["aliases"])
            runsPvdd = true
            if let aliases = settings["aliases"] {
                self.aliases = try ConfigurationError.members(aliases, at: "\(path).pvdd.aliases")
                for alias in self.aliases { _ = try ConfigurationError.string(alias.value, at: "\(path).pvdd.aliases.\(alias.key)") }
            }
        }
    }
}

extension LabTopology.VPNServer {
    init(json: JSONValue, at path: String) throws(ConfigurationError) {
        let members = try ConfigurationError.object(json, at: path, allowed: ["name", "server", "host", "search", "hosts"])
        guard let nameValue = members["name"], let serverValue = members["server"], let hostValue = members["host"] else {
            throw ConfigurationError(path, "a VPN needs name, server (its address upstream) and host (the pvdd host that uses it)")
        }
        name = try ConfigurationError.string(nameValue, at: "\(path).name")
        try LabTopology.checkNode(name, at: "\(path).name")
        let text = try ConfigurationError.string(serverValue, at: "\(path).server")
        guard let server = IPv6Address(text) else { throw ConfigurationError("\(path).server", "\"\(text)\" is not an IPv6 address") }
        self.server = server
        host = try ConfigurationError.string(hostValue, at: "\(path).host")
        if let value = members["search"] {
            let text = try ConfigurationError.string(value, at: "\(path).search")
            do { search = try DomainName(text) } catch { throw ConfigurationError("\(path).search", "\"\(text)\": \(error)") }
        }
        hosts = try members["hosts"].map { value throws(ConfigurationError) in try LabTopology.records(value, at: "\(path).hosts") } ?? []
    }
}
