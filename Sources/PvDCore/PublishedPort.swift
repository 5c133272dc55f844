import PvDWire

/// A port of the host that leads to a port of a domain (`ports:`,
/// docs/services.md): connections to any of the host's own addresses at
/// ``hostPort`` reach the domain's address at ``domainPort``, from the host
/// itself and from the prefixes in ``from``; nothing else of the domain is
/// opened. Made with nftables by HostNet (`inet pvd_ports_pvhXXXX`).
///
///     {host: 8080, domain: 80, protocol: tcp, from: [host, "2001:db8:1::/64", "192.0.2.0/24"]}
public struct PublishedPort: Equatable, Sendable {
    public enum Transport: String, Sendable, CaseIterable { case tcp, udp }

    public var hostPort: UInt16
    public var domainPort: UInt16
    public var transport: Transport
    /// Connections made on the host itself, to one of its own addresses.
    public var fromHost: Bool
    /// Clients in these prefixes (from the LAN), IPv6 and IPv4.
    public var fromIPv6: [IPv6Prefix]
    public var fromIPv4: [TunnelSettings.IPv4Prefix]

    /// At most this many ports per domain, and prefixes per port.
    public static let maximumPorts = 32
    public static let maximumSources = 32

    public init(
        hostPort: UInt16, domainPort: UInt16, transport: Transport = .tcp, fromHost: Bool = true, fromIPv6: [IPv6Prefix] = [],
        fromIPv4: [TunnelSettings.IPv4Prefix] = []
    ) {
        self.hostPort = hostPort
        self.domainPort = domainPort
        self.transport = transport
        self.fromHost = fromHost
        self.fromIPv6 = fromIPv6
        self.fromIPv4 = fromIPv4
    }

    /// One entry; `from` defaults to the host only. Errors name the key.
    public init(json: JSONValue) throws(ConfigurationError) {
        let entry = try ConfigurationError.object(json, at: "", allowed: ["host", "domain", "protocol", "from"])
        func port(_ key: String) throws(ConfigurationError) -> UInt16 {
            guard let value = entry[key] else { throw ConfigurationError("", "a port needs \"host\" and \"domain\" (port numbers)") }
            let number = try ConfigurationError.number(value, at: key)
            guard (1...65535).contains(number), number.rounded() == number else { throw ConfigurationError(key, "must be a port number, 1 to 65535") }
            return UInt16(number)
        }
        self.init(hostPort: try port("host"), domainPort: try port("domain"), fromHost: false)
        if let value = entry["protocol"] {
            let text = try ConfigurationError.string(value, at: "protocol")
            guard let transport = Transport(rawValue: text) else { throw ConfigurationError("protocol", "is tcp or udp, not \(text)") }
            self.transport = transport
        }
        let sources = try entry["from"].map { value throws(ConfigurationError) in try ConfigurationError.strings(value, at: "from") } ?? ["host"]
        guard !sources.isEmpty, sources.count <= PublishedPort.maximumSources else {
            throw ConfigurationError("from", "names 1 to \(PublishedPort.maximumSources) sources: host, IPv6 or IPv4 prefixes")
        }
        for (index, source) in sources.enumerated() {
            if source == "host" {
                fromHost = true
            } else if let prefix = IPv6Prefix(source) {
                guard !prefix.address.isLinkLocal, !prefix.address.isMulticast else {
                    throw ConfigurationError("from[\(index)]", "\(source) is link-local or multicast: clients come from routable addresses")
                }
                fromIPv6.append(prefix)
            } else if let prefix = PublishedPort.ipv4Prefix(source) {
                fromIPv4.append(prefix)
            } else {
                throw ConfigurationError("from[\(index)]", "\"\(source)\" is not host, an IPv6 prefix (2001:db8::/64) or an IPv4 prefix (192.0.2.0/24)")
            }
        }
    }

    /// A list of entries, checked: at most ``maximumPorts``, a host port and
    /// protocol once.
    public static func list(_ value: JSONValue, at path: String) throws(ConfigurationError) -> [PublishedPort] {
        guard case .array(let items) = value else { throw ConfigurationError(path, "must be a list") }
        guard items.count <= maximumPorts else { throw ConfigurationError(path, "has \(items.count) ports; at most \(maximumPorts)") }
        var ports: [PublishedPort] = []
        for (index, item) in items.enumerated() {
            let itemPath = "\(path)[\(index)]"
            let port: PublishedPort
            do { port = try PublishedPort(json: item) } catch {
                throw ConfigurationError(itemPath + (error.path.isEmpty ? "" : "." + error.path), error.problem)
            }
            guard !ports.contains(where: { $0.hostPort == port.hostPort && $0.transport == port.transport }) else {
                throw ConfigurationError("\(itemPath).host", "\(port.transport.rawValue) port \(port.hostPort) is published twice")
            }
            ports.append(port)
        }
        return ports
    }

    /// `ports:` of pvdd.yaml and its drop-ins: lists by domain name.
    public static func table(_ value: JSONValue, at path: String) throws(ConfigurationError) -> [String: [PublishedPort]] {
        var table: [String: [PublishedPort]] = [:]
        for member in try ConfigurationError.members(value, at: path) {
            do { try DomainNaming.validate(member.key) } catch { throw ConfigurationError("\(path).\(member.key)", error.description) }
            table[member.key] = try list(member.value, at: "\(path).\(member.key)")
        }
        return table
    }

    /// `HOST:DOMAIN` or `HOST:DOMAIN/udp` (`pvd publish`), from the host only
    /// until ``fromHost`` and the prefixes are set.
    public init?(mapping text: String) {
        let (ports, transport) =
            text.hasSuffix("/udp") ? (text.dropLast(4), Transport.udp) : text.hasSuffix("/tcp") ? (text.dropLast(4), .tcp) : (Substring(text), .tcp)
        let numbers = ports.split(separator: ":", omittingEmptySubsequences: false).map { UInt16($0) }
        guard numbers.count == 2, let host = numbers[0], let domain = numbers[1], host > 0, domain > 0 else { return nil }
        self.init(hostPort: host, domainPort: domain, transport: transport)
    }

    /// One entry in YAML's flow style, as pvd writes it back.
    public var yaml: String {
        "{host: \(hostPort), domain: \(domainPort), protocol: \(transport.rawValue), from: [" + sources.map { "\"\($0)\"" }.joined(separator: ", ") + "]}"
    }

    /// `a.b.c.d/n`, its host bits clear.
    static func ipv4Prefix(_ text: String) -> TunnelSettings.IPv4Prefix? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let octets = TunnelSettings.ipv4(String(parts[0])), let length = Int(parts[1]), (0...32).contains(length),
            TunnelSettings.network(octets, length) == octets
        else { return nil }
        return TunnelSettings.IPv4Prefix(octets: octets, length: length)
    }

    /// `from` as written: `host`, then the prefixes.
    public var sources: [String] { (fromHost ? ["host"] : []) + fromIPv6.map(\.description) + fromIPv4.map(\.description) }

    public var json: JSONValue {
        .object([
            JSONMember("host", .integer(Int64(hostPort))), JSONMember("domain", .integer(Int64(domainPort))),
            JSONMember("protocol", .string(transport.rawValue)),
            JSONMember("from", .array(sources.map(JSONValue.string))),
        ])
    }
}
