import PvDWire

/// What people declare, in the spirit of nmstate (`pvd apply FILE`, `pvd
/// show --yaml`): the static domains, the VPN domains and the bare
/// namespaces. Domains learnt from RAs are not declared; they come and go
/// with their routers.
///
/// ```yaml
/// domains:
///   - name: lab
///     uplink: eth0
///     addresses: ["2001:db8:9::5"]
///     routers: ["fe80::1"]
///     dns: ["2001:db8:9::53"]
/// vpns:
///   - {name: corp-vpn, openvpn: /etc/pvd/corp.ovpn}
/// namespaces: [testns]
/// ```
public struct DeclarativeState: Equatable, Sendable {
    /// A VPN domain: its name, its client, and the client's configuration
    /// file (OpenConnect: the server, with its other settings in `options`).
    public struct VPN: Equatable, Sendable {
        public var name: String
        public var client: VPNClient
        public var config: String
        public var options: [String: String] = [:]
        /// How long its client may take to connect before a verification
        /// fails (`connect-within`, seconds); nil: ``defaultConnectWithin``.
        public var connectWithin: UInt32?
        public init(name: String, client: VPNClient, config: String, options: [String: String] = [:], connectWithin: UInt32? = nil) {
            self.name = name
            self.client = client
            self.config = config
            self.options = options
            self.connectWithin = connectWithin
        }
    }

    /// How long a VPN client may take to connect when its entry says not.
    public static let defaultConnectWithin: UInt32 = 30
    /// The bounds a VPN entry's `connect-within` may have, in seconds.
    public static let connectWithinRange: ClosedRange<UInt32> = 1...600

    /// A VPN entry's `connect-within`, checked.
    static func connectWithin(_ value: JSONValue?, at path: String) throws(ConfigurationError) -> UInt32? {
        guard let value else { return nil }
        let number = try ConfigurationError.number(value, at: path)
        let range = DeclarativeState.connectWithinRange
        guard number.rounded() == number, number >= Double(range.lowerBound), number <= Double(range.upperBound) else {
            throw ConfigurationError(path, "seconds, \(range.lowerBound) to \(range.upperBound)")
        }
        return UInt32(number)
    }

    public var domains: [DomainSpec] = []
    public var vpns: [VPN] = []
    public var namespaces: [String] = []

    /// The settings a static domain may have.
    public static let domainKeys: Set = ["name", "uplink", "attachment", "addresses", "routers", "on_link", "routes", "mtu", "dns", "search", "ports"]

    /// Every name it declares: static domains, VPN domains and namespaces.
    public var names: [String] { domains.map(\.name) + vpns.map(\.name) + namespaces }

    public init(domains: [DomainSpec] = [], vpns: [VPN] = [], namespaces: [String] = []) {
        self.domains = domains.sorted { $0.name < $1.name }
        self.vpns = vpns.sorted { $0.name < $1.name }
        self.namespaces = namespaces.sorted()
    }

    /// Reads and checks a declared state; errors name the key (`domains[1].uplink`).
    public init(_ document: JSONValue) throws(ConfigurationError) {
        if case .null = document { return }
        let top = try ConfigurationError.object(document, at: "", allowed: ["domains", "vpns", "namespaces"])
        var names: Set<String> = []
        func claim(_ name: String, at path: String) throws(ConfigurationError) {
            do { try DomainNaming.validateChosen(name) } catch { throw ConfigurationError(path, error.description) }
            guard names.insert(name).inserted else { throw ConfigurationError(path, "\(name) is declared twice") }
        }
        if let value = top["domains"] {
            guard case .array(let items) = value else { throw ConfigurationError("domains", "must be a list") }
            for (index, item) in items.enumerated() {
                let path = "domains[\(index)]"
                _ = try ConfigurationError.object(item, at: path, allowed: DeclarativeState.domainKeys)
                let spec: DomainSpec
                do { spec = try DomainSpec(json: item) } catch { throw ConfigurationError(path + (error.path.isEmpty ? "" : "." + error.path), error.problem) }
                try claim(spec.name, at: "\(path).name")
                domains.append(spec)
            }
        }
        if let value = top["vpns"] {
            guard case .array(let items) = value else { throw ConfigurationError("vpns", "must be a list") }
            for (index, item) in items.enumerated() {
                let path = "vpns[\(index)]"
                let entry = try ConfigurationError.object(item, at: path, allowed: Set(["name", "connect-within"] + VPNClient.allCases.map(\.rawValue)))
                let clients = VPNClient.allCases.filter { entry[$0.rawValue] != nil }
                guard let nameValue = entry["name"], clients.count == 1, let client = clients.first, let configValue = entry[client.rawValue] else {
                    throw ConfigurationError(
                        path, "a VPN domain needs \"name\" and one of \(VPNClient.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
                }
                let name = try ConfigurationError.string(nameValue, at: "\(path).name")
                try claim(name, at: "\(path).name")
                let connectWithin = try DeclarativeState.connectWithin(entry["connect-within"], at: "\(path).connect-within")
                if client == .openConnect {
                    let (server, options) = try OpenConnectSettings.read(configValue, at: "\(path).\(client.rawValue)")
                    vpns.append(VPN(name: name, client: client, config: server, options: options, connectWithin: connectWithin))
                    continue
                }
                let config = try ConfigurationError.string(configValue, at: "\(path).\(client.rawValue)")
                guard config.hasPrefix("/") else { throw ConfigurationError("\(path).\(client.rawValue)", "must be an absolute path") }
                vpns.append(VPN(name: name, client: client, config: config, connectWithin: connectWithin))
            }
        }
        if let value = top["namespaces"] {
            for (index, name) in try ConfigurationError.strings(value, at: "namespaces").enumerated() {
                try claim(name, at: "namespaces[\(index)]")
                namespaces.append(name)
            }
        }
        self = DeclarativeState(domains: domains, vpns: vpns, namespaces: namespaces)
    }

    /// One step from a state to another.
    public enum Change: Equatable, Sendable, CustomStringConvertible {
        case addDomain(DomainSpec)
        case changeDomain(DomainSpec)
        case removeDomain(String)
        case addVPN(VPN)
        case removeVPN(String)
        case addNamespace(String)
        case removeNamespace(String)

        public var description: String {
            switch self {
            case .addDomain(let spec): "add domain \(spec.name)"
            case .changeDomain(let spec): "change domain \(spec.name)"
            case .removeDomain(let name): "remove domain \(name)"
            case .addVPN(let vpn): "add VPN domain \(vpn.name)"
            case .removeVPN(let name): "remove VPN domain \(name)"
            case .addNamespace(let name): "add namespace \(name)"
            case .removeNamespace(let name): "remove namespace \(name)"
            }
        }
    }

    /// The steps that turn `self` into `target`: removals first, then changes,
    /// then additions (a VPN domain with another configuration is removed and added).
    public func changes(to target: DeclarativeState) -> [Change] {
        let current = Dictionary(uniqueKeysWithValues: domains.map { ($0.name, $0) })
        let wanted = Dictionary(uniqueKeysWithValues: target.domains.map { ($0.name, $0) })
        var steps: [Change] = []
        steps += domains.filter { wanted[$0.name] == nil }.map { .removeDomain($0.name) }
        steps += vpns.filter { !target.vpns.contains($0) }.map { .removeVPN($0.name) }
        steps += namespaces.filter { !target.namespaces.contains($0) }.map { .removeNamespace($0) }
        steps += target.domains.filter { current[$0.name] != nil && current[$0.name] != $0 }.map { .changeDomain($0) }
        steps += target.domains.filter { current[$0.name] == nil }.map { .addDomain($0) }
        steps += target.vpns.filter { !vpns.contains($0) }.map { .addVPN($0) }
        steps += target.namespaces.filter { !namespaces.contains($0) }.map { .addNamespace($0) }
        return steps
    }

    /// The state as YAML that ``init(_:)`` (through PvDConfig's reader) takes back.
    public var yaml: String {
        /// A YAML double-quoted scalar: search domains (any octet, as `\DDD`) and
        /// configuration paths may hold backslashes, quotes and control characters.
        func quoted(_ text: String) -> String {
            var result = "\""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\\": result += "\\\\"
                case "\"": result += "\\\""
                case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                    let hex = String(scalar.value, radix: 16)
                    result += "\\x" + (hex.count == 1 ? "0" + hex : hex)
                default: result.unicodeScalars.append(scalar)
                }
            }
            return result + "\""
        }
        func list(_ items: [String]) -> String { "[" + items.map(quoted).joined(separator: ", ") + "]" }
        var text = "# Declared state of pvd: static domains, VPN domains and namespaces (pvd apply takes this back)\n"
        text += domains.isEmpty ? "domains: []\n" : "domains:\n"
        for spec in domains {
            text += "  - name: \(quoted(spec.name))\n    uplink: \(quoted(spec.uplink))\n"
            if spec.attachment != .routed { text += "    attachment: \(spec.attachment.rawValue)\n" }
            let lists: [(String, [String])] = [
                ("addresses", spec.addresses.map(\.description)), ("routers", spec.routers.map(\.description)),
                ("on_link", spec.onLinkPrefixes.map(\.description)), ("routes", spec.routes.map(\.description)),
                ("dns", spec.dnsServers.map(\.description)), ("search", spec.searchDomains.map(\.description)),
            ]
            for (key, items) in lists where !items.isEmpty {
                text += "    \(key): \(list(items))\n"
            }
            if let mtu = spec.mtu { text += "    mtu: \(mtu)\n" }
            if !spec.ports.isEmpty { text += "    ports: [\(spec.ports.map(\.yaml).joined(separator: ", "))]\n" }
        }
        text += vpns.isEmpty ? "vpns: []\n" : "vpns:\n"
        for vpn in vpns {
            let value =
                vpn.client == .openConnect
                ? "{" + ([("server", vpn.config)] + vpn.options.sorted { $0.key < $1.key }).map { "\($0.0): \(quoted($0.1))" }.joined(separator: ", ") + "}"
                : quoted(vpn.config)
            let bound = vpn.connectWithin.map { ", connect-within: \($0)" } ?? ""
            text += "  - {name: \(quoted(vpn.name)), \(vpn.client.rawValue): \(value)\(bound)}\n"
        }
        text += "namespaces: \(list(namespaces))\n"
        return text
    }
}

/// The VPN clients pvd runs, by the key that names their configuration file
/// in the declared state (`openvpn: /etc/pvd/corp.ovpn`).
public enum VPNClient: String, CaseIterable, Equatable, Sendable {
    /// OpenVPN, with an OpenVPN client configuration.
    case openVPN = "openvpn"
    /// WireGuard (the kernel's, or Debian's wireguard-go), with a wg-quick style configuration.
    case wireGuard = "wireguard"
    /// OpenConnect (Cisco AnyConnect and other SSL VPNs), with its settings
    /// as a mapping (``OpenConnectSettings``).
    case openConnect = "openconnect"
    /// Any other tunnel program that makes a tun device and can run a script:
    /// pvdd runs it with the hook contract of docs/guide.md ("Any other tunnel
    /// program").
    case command
}
