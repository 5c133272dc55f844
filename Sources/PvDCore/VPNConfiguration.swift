import PvDWire

/// What pvd checks in a VPN client's configuration before it makes anything:
/// the text here (pure), the files' owners and modes in pvdd. Every error
/// names the line and says what to change.
public enum OpenVPNConfiguration {
    /// A configuration file is small; this bounds what pvdd reads.
    public static let maximumBytes = 1 << 20

    /// What the text says that pvd needs to know.
    public struct Summary: Equatable, Sendable {
        /// Files the configuration names that hold secrets (keys, static
        /// keys, passwords), relative paths as written.
        public var secretFiles: [String] = []
        /// Whether the file itself holds a secret (an inline `<key>` …).
        public var holdsSecrets = false
        /// The `remote` lines' hosts, for people.
        public var servers: [String] = []
    }

    /// Options that hold a secret, as a file argument or an inline block.
    static let secretOptions: Set = ["key", "pkcs12", "secret", "tls-auth", "tls-crypt", "tls-crypt-v2", "auth-user-pass", "askpass", "http-proxy-user-pass"]
    /// Options a client run by pvd must not have, and why.
    static let refused: [String: String] = [
        "daemon": "would leave pvdd's watch (pvdd runs and restarts the client)",
        "inetd": "would leave pvdd's watch (pvdd runs and restarts the client)",
        "server": "is a server configuration; pvd runs VPN clients",
        "server-bridge": "is a server configuration; pvd runs VPN clients",
        "tls-server": "is a server configuration; pvd runs VPN clients",
        "config": "includes another file, which pvd cannot check; put its lines here",
        "plugin": "loads code into the client, which pvd does not allow",
    ]

    /// Checks an OpenVPN client configuration: not empty, a client with a
    /// server to reach, authenticated and encrypted (TLS with a CA, or a
    /// static key, never `cipher none`), a layer-3 tunnel, and nothing that
    /// takes the client out of pvdd's hands.
    public static func check(_ text: String) throws(ConfigurationError) -> Summary {
        var summary = Summary()
        var names: Set<String> = []
        var inline: String?
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.trimmingWhitespace()
            if let block = inline {
                if line == "</\(block)>" { inline = nil }
                if block == "connection", line.hasPrefix("remote"), let host = line.split(separator: " ").dropFirst().first {
                    summary.servers.append(String(host))
                    names.insert("remote")
                }
                continue
            }
            guard !line.isEmpty, !line.hasPrefix("#"), !line.hasPrefix(";") else { continue }
            if line.hasPrefix("<"), line.hasSuffix(">"), !line.hasPrefix("</") {
                let block = String(line.dropFirst().dropLast())
                guard block.utf8.allSatisfy({ isOptionCharacter($0) }) else { throw error(lineNumber, "\"\(line)\" is not an inline block") }
                inline = block
                names.insert(block)
                if secretOptions.contains(block) { summary.holdsSecrets = true }
                continue
            }
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            var name = words[0]
            if name.hasPrefix("--") { name.removeFirst(2) }
            guard !name.isEmpty, name.utf8.allSatisfy({ isOptionCharacter($0) }) else {
                throw error(lineNumber, "\"\(words[0])\" is not an OpenVPN option: this is not an OpenVPN configuration")
            }
            if let reason = refused[name] { throw error(lineNumber, "\(name) \(reason)") }
            let arguments = Array(words.dropFirst())
            switch name {
            case "mode" where arguments.first == "server": throw error(lineNumber, "mode server is a server configuration; pvd runs VPN clients")
            case "dev" where arguments.first?.hasPrefix("tap") == true, "dev-type" where arguments.first == "tap":
                throw error(lineNumber, "a tap (layer 2) device: pvd's VPN domains take a tun device")
            case "cipher", "data-ciphers", "ncp-ciphers", "data-ciphers-fallback":
                if arguments.contains(where: { $0.lowercased().split(separator: ":").contains("none") }) {
                    throw error(lineNumber, "\(name) none sends the tunnel's traffic unencrypted")
                }
            case "remote":
                if let host = arguments.first { summary.servers.append(host) }
            default: break
            }
            if secretOptions.contains(name), let file = arguments.first, file != "[inline]", !(name == "auth-user-pass" && file.isEmpty) {
                summary.secretFiles.append(file)
            }
            names.insert(name)
        }
        if let inline { throw ConfigurationError("line \(lineNumber)", "<\(inline)> is not closed") }
        guard !names.isEmpty else { throw ConfigurationError("", "the file is empty: it is not an OpenVPN configuration") }
        guard names.contains("remote") else { throw ConfigurationError("", "no remote: the configuration names no server to connect to") }
        let tls = names.contains("client") || names.contains("tls-client")
        guard tls || names.contains("secret") else {
            throw ConfigurationError(
                "", "neither client (TLS) nor secret (a static key): OpenVPN would run without authentication or encryption")
        }
        if tls, !names.contains("ca"), !names.contains("pkcs12") {
            throw ConfigurationError("", "no ca (or pkcs12): nothing checks the server's certificate")
        }
        return summary
    }

    static func isOptionCharacter(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D || byte == 0x5F
    }

    static func error(_ line: Int, _ problem: String) -> ConfigurationError { ConfigurationError("line \(line)", problem) }
}

/// A WireGuard configuration in wg-quick's format: `[Interface]` with
/// PrivateKey, Address, DNS, MTU (and ListenPort, FwMark), then `[Peer]`
/// sections with PublicKey, PresharedKey, Endpoint, AllowedIPs and
/// PersistentKeepalive. pvd gives `wg setconf` only what `wg` reads, and
/// applies Address, DNS, MTU and AllowedIPs inside the domain itself.
public struct WireGuardConfiguration: Equatable, Sendable {
    public var addresses: [String] = []
    public var dnsServers: [String] = []
    public var searchDomains: [PvDWire.DomainName] = []
    public var mtu: UInt32?
    /// What `wg setconf` takes: the file without wg-quick's own keys.
    public var wgConfig = ""
    /// Every peer's AllowedIPs: the routes through the tunnel.
    public var allowedIPs: [String] = []
    public var endpoints: [String] = []

    static let wgInterfaceKeys: Set = ["privatekey", "listenport", "fwmark"]
    static let wgPeerKeys: Set = ["publickey", "presharedkey", "endpoint", "allowedips", "persistentkeepalive"]
    /// wg-quick's keys pvd does not take, and why.
    static let refusedKeys: [String: String] = [
        "preup": "it runs a command as root", "postup": "it runs a command as root", "predown": "it runs a command as root",
        "postdown": "it runs a command as root", "saveconfig": "it writes the file back",
        "table": "pvd makes the domain's routes itself",
    ]

    /// Reads and checks the text; errors name the line.
    public init(_ text: String) throws(ConfigurationError) {
        var section = ""
        var lineNumber = 0
        var hasKey = false
        var peers = 0
        var peerHasKey = false
        var out: [String] = []
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = rawLine.trimmingWhitespace()
            if let hash = line.firstIndex(of: "#") { line = String(line[..<hash]).trimmingWhitespace() }
            guard !line.isEmpty else { continue }
            if line.hasPrefix("[") {
                guard line == "[Interface]" || line == "[Peer]" else { throw ConfigurationError("line \(lineNumber)", "\(line) is not a WireGuard section") }
                if section == "[Peer]", !peerHasKey { throw ConfigurationError("line \(lineNumber)", "the peer before has no PublicKey") }
                section = line
                if line == "[Peer]" {
                    peers += 1
                    peerHasKey = false
                }
                out.append(line)
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { throw ConfigurationError("line \(lineNumber)", "\"\(line)\" is not KEY = VALUE") }
            let key = line[..<equals].trimmingWhitespace().lowercased()
            let value = line[line.index(after: equals)...].trimmingWhitespace()
            let values = value.split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
            guard !section.isEmpty else { throw ConfigurationError("line \(lineNumber)", "\(key) before [Interface]") }
            if let reason = WireGuardConfiguration.refusedKeys[key] {
                throw ConfigurationError("line \(lineNumber)", "\(key): pvd does not take it (\(reason))")
            }
            switch (section, key) {
            case ("[Interface]", "address"): addresses += values
            case ("[Interface]", "dns"):
                for item in values {
                    if TunnelSettings.ipv4(item) != nil || IPv6Address(item) != nil {
                        dnsServers.append(item)
                    } else {
                        do { searchDomains.append(try PvDWire.DomainName(item)) } catch {
                            throw ConfigurationError("line \(lineNumber)", "DNS \"\(item)\" is neither an address nor a domain name")
                        }
                    }
                }
            case ("[Interface]", "mtu"):
                guard let number = UInt32(value), (1280...65535).contains(number) else {
                    throw ConfigurationError("line \(lineNumber)", "MTU \"\(value)\" (1280 to 65535)")
                }
                mtu = number
            case ("[Interface]", let key) where WireGuardConfiguration.wgInterfaceKeys.contains(key):
                if key == "privatekey" { hasKey = WireGuardConfiguration.isKey(value) }
                out.append("\(line[..<equals].trimmingWhitespace()) = \(value)")
            case ("[Peer]", let key) where WireGuardConfiguration.wgPeerKeys.contains(key):
                if key == "publickey" {
                    guard WireGuardConfiguration.isKey(value) else { throw ConfigurationError("line \(lineNumber)", "PublicKey is not a WireGuard key") }
                    peerHasKey = true
                }
                if key == "allowedips" { allowedIPs += values }
                if key == "endpoint" { endpoints.append(value) }
                out.append("\(line[..<equals].trimmingWhitespace()) = \(value)")
            default:
                throw ConfigurationError("line \(lineNumber)", "\(line[..<equals].trimmingWhitespace()) is not a key of \(section)")
            }
        }
        guard hasKey else { throw ConfigurationError("", "no PrivateKey (a base64 WireGuard key) in [Interface]: not a WireGuard configuration") }
        guard peers > 0, peerHasKey else { throw ConfigurationError("", "no [Peer] with a PublicKey: the tunnel would lead nowhere") }
        guard !addresses.isEmpty else { throw ConfigurationError("", "no Address in [Interface]: the domain would have no address in the tunnel") }
        wgConfig = out.joined(separator: "\n") + "\n"
    }

    /// A WireGuard key: 32 bytes in base64 (44 characters, one `=`).
    static func isKey(_ text: String) -> Bool {
        text.utf8.count == 44 && text.hasSuffix("=")
            && text.utf8.dropLast().allSatisfy {
                ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2B || $0 == 0x2F
            }
    }

    /// The tunnel's settings inside the domain: its addresses, its routes
    /// (every peer's AllowedIPs; the default routes always go through the
    /// tunnel, the domain's only way out), DNS and MTU.
    public func tunnelSettings(device: String) throws(ConfigurationError) -> TunnelSettings {
        var settings = TunnelSettings(device: device)
        for address in addresses {
            let parts = address.split(separator: "/", maxSplits: 1).map(String.init)
            if let octets = TunnelSettings.ipv4(parts[0]) {
                let length = parts.count == 2 ? Int(parts[1]) : 32
                guard let length, (0...32).contains(length), settings.ipv4 == nil else {
                    throw ConfigurationError("Address", "\"\(address)\": one IPv4 address with a prefix length")
                }
                settings.ipv4 = TunnelSettings.IPv4Prefix(octets: octets, length: length)
            } else if let ipv6 = IPv6Address(parts[0]) {
                let length = parts.count == 2 ? Int(parts[1]) : 128
                guard let length, (1...128).contains(length), settings.ipv6 == nil else {
                    throw ConfigurationError("Address", "\"\(address)\": one IPv6 address with a prefix length")
                }
                settings.ipv6 = ipv6
                settings.ipv6PrefixLength = length
            } else {
                throw ConfigurationError("Address", "\"\(address)\" is not an address")
            }
        }
        for allowed in allowedIPs {
            let parts = allowed.split(separator: "/", maxSplits: 1).map(String.init)
            if let octets = TunnelSettings.ipv4(parts[0]), let length = parts.count == 2 ? Int(parts[1]) : 32, (0...32).contains(length) {
                settings.ipv4Routes.append(TunnelSettings.IPv4Prefix(octets: octets, length: length))
            } else if let prefix = IPv6Prefix(parts.count == 2 ? allowed : allowed + "/128") {
                settings.ipv6Routes.append(prefix)
            } else {
                throw ConfigurationError("AllowedIPs", "\"\(allowed)\" is not a prefix")
            }
        }
        settings.dnsServers = dnsServers
        settings.searchDomains = searchDomains
        settings.mtu = mtu ?? 1420
        return settings.withoutRedundantRoutes()
    }
}

extension StringProtocol {
    /// Without spaces, tabs and carriage returns at either end.
    public func trimmingWhitespace() -> String {
        String(drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" }).reversed().drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" }).reversed())
    }
}

/// OpenConnect's settings, a mapping in the declared state:
/// `openconnect: {server: https://vpn.example.com, protocol: anyconnect, user: alice,
/// password-file: /etc/pvd/corp.pass, servercert: "pin-sha256:…"}`. The
/// credentials come from one source: a password file (with `user`), a client
/// certificate (with its `key`), or a cookie file from an authentication
/// step the user ran (`openconnect --authenticate`). Files are named, never
/// inlined, so the declared state holds no secret.
public enum OpenConnectSettings {
    public static let keys: Set = ["server", "protocol", "user", "password-file", "certificate", "key", "cookie-file", "servercert"]
    /// OpenConnect 9's protocols.
    public static let protocols: Set = ["anyconnect", "nc", "gp", "pulse", "f5", "fortinet", "array"]
    /// The settings that name files holding secrets.
    public static let secretKeys = ["password-file", "key", "cookie-file"]

    /// Reads and checks the mapping: the server and the other settings.
    public static func read(_ value: JSONValue, at path: String) throws(ConfigurationError) -> (server: String, options: [String: String]) {
        let members = try ConfigurationError.object(value, at: path, allowed: keys)
        var options: [String: String] = [:]
        for (key, item) in members { options[key] = try ConfigurationError.string(item, at: "\(path).\(key)") }
        guard let server = options.removeValue(forKey: "server"), !server.isEmpty, server.utf8.count <= 1024,
            !server.contains(where: { $0 == " " || $0 == "\t" || $0 == "\n" }), !server.hasPrefix("-")
        else {
            throw ConfigurationError("\(path).server", "the VPN server (https://host[:port][/path]) is required")
        }
        if let name = options["protocol"], !protocols.contains(name) {
            throw ConfigurationError("\(path).protocol", "one of \(protocols.sorted().joined(separator: ", "))")
        }
        for key in ["password-file", "certificate", "key", "cookie-file"] where options[key].map({ !$0.hasPrefix("/") }) ?? false {
            throw ConfigurationError("\(path).\(key)", "must be an absolute path")
        }
        let sources = ["password-file", "certificate", "cookie-file"].filter { options[$0] != nil }
        guard sources.count == 1 else {
            throw ConfigurationError(path, "one source of credentials: password-file (with user), certificate (with key) or cookie-file")
        }
        if options["password-file"] != nil, (options["user"] ?? "").isEmpty { throw ConfigurationError("\(path).user", "a password-file needs the user") }
        if let user = options["user"], user.hasPrefix("-") || user.contains("\n") { throw ConfigurationError("\(path).user", "not a user name") }
        if let pin = options["servercert"], !(pin.hasPrefix("pin-sha256:") || pin.hasPrefix("sha256:") || pin.hasPrefix("sha1:")) {
            throw ConfigurationError("\(path).servercert", "the server certificate's fingerprint, pin-sha256:… as openconnect prints it")
        }
        return (server, options)
    }

    /// The value a VPN entry has in the state file: the path, or OpenConnect's mapping.
    public static func json(_ entry: VPNEntry) -> JSONValue {
        guard entry.client == .openConnect else { return .string(entry.config) }
        return .object(
            [JSONMember("server", .string(entry.config))] + entry.options.sorted { $0.key < $1.key }.map { JSONMember($0.key, .string($0.value)) })
    }

    /// openconnect's arguments for these settings (the credentials it reads
    /// on stdin come from ``stdinFile(_:)``).
    public static func arguments(server: String, options: [String: String]) -> [String] {
        var arguments = ["--protocol", options["protocol"] ?? "anyconnect", "--non-inter"]
        if let user = options["user"] { arguments += ["--user", user] }
        if options["password-file"] != nil { arguments.append("--passwd-on-stdin") }
        if options["cookie-file"] != nil { arguments.append("--cookie-on-stdin") }
        if let certificate = options["certificate"] { arguments += ["--certificate", certificate] }
        if let key = options["key"] { arguments += ["--sslkey", key] }
        if let pin = options["servercert"] { arguments += ["--servercert", pin] }
        return arguments + ["--", server]
    }

    /// The file openconnect reads its password or cookie from, on stdin.
    public static func stdinFile(_ options: [String: String]) -> String? { options["password-file"] ?? options["cookie-file"] }
}
