import ArgumentParser
import BusWire
import Glibc
import LinuxSystem
import PvDConfig
import PvDCore
import PvDExec
import PvDWire
import Systemd

/// What every command that talks to pvdd shares: the connection and how a
/// failure is told (one line, exit status 1).
protocol DaemonCommand: ParsableCommand {
    func run(with client: PvDClient) throws(BusError)
}

extension DaemonCommand {
    func run() throws {
        do throws(BusError) {
            try run(with: try PvDClient(trustEnvironment: isTrustedCaller))
        } catch {
            printError(error.message)
            throw ExitCode(1)
        }
    }
}

/// A D-Bus value as JSON: dictionaries of `{sX}` become objects.
func jsonValue(_ value: BusValue) -> JSONValue {
    switch value {
    case .string(let text), .objectPath(let text), .typeSignature(let text): return .string(text)
    case .boolean(let flag): return .bool(flag)
    case .byte(let number): return .integer(Int64(number))
    case .int16(let number): return .integer(Int64(number))
    case .uint16(let number): return .integer(Int64(number))
    case .uint32(let number): return .integer(Int64(number))
    case .uint64(let number): return number > UInt64(Int64.max) ? .null : .integer(Int64(number))
    case .int32(let number): return .integer(Int64(number))
    case .int64(let number): return .integer(number)
    case .double(let number): return .number(number)
    case .unixFD(let fd): return .integer(Int64(fd))
    case .variant(let inner): return jsonValue(inner)
    case .structure(let fields): return .array(fields.map(jsonValue))
    case .dictEntry(let key, let item): return .array([jsonValue(key), jsonValue(item)])
    case .array(let element, let items) where element.hasPrefix("{s"):
        return .object(
            items.compactMap {
                guard case .dictEntry(.string(let key), let item) = $0 else { return nil }
                return JSONMember(key, jsonValue(item))
            })
    case .array(_, let items): return .array(items.map(jsonValue))
    }
}

/// A property value for people: lists joined by commas, a lifetime in seconds.
func text(_ value: BusValue) -> String {
    switch value {
    case .array(let element, let items) where element.hasPrefix("{s"):
        return items.compactMap {
            guard case .dictEntry(.string(let key), let item) = $0 else { return nil }
            return "\(key)=\(text(item))"
        }.joined(separator: " ")
    case .array(_, let items): return items.isEmpty ? "-" : items.map(text).joined(separator: ", ")
    case .uint64(let number): return number == .max ? "forever" : "\(number)"
    case .string(let value): return value.isEmpty ? "-" : value
    default:
        if case .string(let value) = jsonValue(value) { return value }
        return jsonValue(value).serialized
    }
}

func printLine(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { _ = write(1, $0.baseAddress, $0.count) }
}

/// Columns padded to their widest cell.
func printTable(_ rows: [[String]]) {
    guard let header = rows.first else { return }
    let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
    for row in rows {
        printLine(
            row.enumerated().map {
                $0.offset == row.count - 1
                    ? $0.element
                    : $0.element + String(repeating: " ", count: widths[$0.offset] - $0.element.count)
            }.joined(separator: "  "))
    }
}

/// One domain as the command line's JSON has it (docs/dbus-api.md, "JSON"):
/// every property under its snake_case key; a lifetime without end is null,
/// additional information is the document itself (or null).
func domainJSON(_ properties: [String: BusValue]) -> JSONValue {
    .object(
        PvDBusAPI.Property.allCases.compactMap { property in
            guard let value = properties[property.rawValue] else { return nil }
            if property == .additionalInfo {
                let text = value.text ?? ""
                return JSONMember(property.jsonKey, text.isEmpty ? .null : (try? JSONValue.parse(Array(text.utf8))) ?? .string(text))
            }
            return JSONMember(property.jsonKey, jsonValue(value))
        })
}

/// One domain as `pvd show` and `pvd status` print it: the same labels, units on durations.
func printDomain(_ name: String, _ properties: [String: BusValue], all: Bool) {
    let pvd = properties["PvDId"].map(text).flatMap { $0 == "-" ? nil : " (PvD \($0))" } ?? ""
    printLine("\(name)\(pvd): \(properties["Kind"].map(text) ?? "-"), \(properties["State"].map(text) ?? "-")")
    printLine("  \(properties["StateReason"].map(text) ?? "-")")
    let shown: [PvDBusAPI.Property] =
        [.origin, .uplinks, .routers, .addresses] + (all ? [.routes] : []) + [.dnsServers, .searchDomains, .ipv4, .lifetime]
        + (all ? [.sequence, .flags, .additionalInfo] : []) + [.namespacePath]
    let width = shown.map(\.label.count).max() ?? 0
    for property in shown {
        var value = properties[property.rawValue].map(text) ?? "-"
        if property == .lifetime, value != "forever", value != "-" { value += " s" }
        printLine("  \(property.label):\(String(repeating: " ", count: width - property.label.count)) \(value)")
    }
}

struct List: DaemonCommand {
    static let configuration = CommandConfiguration(abstract: "List the domains.")
    @Flag(help: "JSON: an array of domains (docs/dbus-api.md, \"JSON\").") var json = false

    func run(with client: PvDClient) throws(BusError) {
        var rows = [["NAME", "KIND", "FROM", "STATE", "UPLINKS", "ADDRESSES"]]
        var objects: [JSONValue] = []
        for domain in try client.domains() {
            let properties = Dictionary(try client.properties(of: domain.path), uniquingKeysWith: { first, _ in first })
            objects.append(domainJSON(properties))
            rows.append([
                domain.name, domain.kind, properties["Origin"].map(text) ?? "-", properties["State"].map(text) ?? "-",
                properties["Uplinks"].map(text) ?? "-", properties["Addresses"].map(text) ?? "-",
            ])
        }
        if json { printLine(JSONValue.array(objects).serialized) } else { printTable(rows) }
    }
}

struct Show: DaemonCommand {
    static let configuration = CommandConfiguration(abstract: "Show one domain, or with --yaml the declared state.")
    @Argument(help: "The domain's name (or its PvD ID), or an unambiguous start of it.") var name: String?
    @Flag(help: "JSON: one domain (docs/dbus-api.md, \"JSON\").") var json = false
    @Flag(help: "The declared state (static domains and namespaces), as pvd apply takes it.") var yaml = false

    func validate() throws {
        if yaml, name != nil || json { throw ValidationError("--yaml shows the whole declared state: no NAME, no --json") }
        if !yaml, name == nil { throw ValidationError("which domain? pvd show NAME (or pvd show --yaml)") }
    }

    func run(with client: PvDClient) throws(BusError) {
        guard let name else {
            var text = try client.manager(.getState).first?.text ?? ""
            text.withUTF8 { _ = write(1, $0.baseAddress, $0.count) }
            return
        }
        let properties = Dictionary(try client.properties(of: try client.path(of: name)), uniquingKeysWith: { first, _ in first })
        if json {
            printLine(domainJSON(properties).serialized)
        } else {
            printDomain(properties["Name"].map(text) ?? name, properties, all: true)
        }
    }
}

struct Status: DaemonCommand {
    static let configuration = CommandConfiguration(abstract: "Routers, addresses, DNS and lifetimes of every domain.")
    @Flag(help: "JSON: an array of domains (docs/dbus-api.md, \"JSON\").") var json = false

    func run(with client: PvDClient) throws(BusError) {
        var objects: [JSONValue] = []
        for domain in try client.domains() {
            let properties = Dictionary(try client.properties(of: domain.path), uniquingKeysWith: { first, _ in first })
            if json { objects.append(domainJSON(properties)) } else { printDomain(domain.name, properties, all: false) }
        }
        if json { printLine(JSONValue.array(objects).serialized) }
    }
}

struct Add: DaemonCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add a static domain, or a VPN domain (as root).",
        discussion: """
            A static domain: --uplink with its addresses, routers, prefixes and DNS.
            A VPN domain: --openvpn FILE (an OpenVPN client configuration) or --wireguard FILE
            (wg-quick's format), both root's files readable by root only; or --openconnect SERVER
            with --user and --password-file, --certificate and --key, or --cookie-file
            (and --servercert pin-sha256:…, --protocol).
            """)
    @Argument(help: "The new domain's name.") var name: String
    @Option(help: "The uplink it is attached to.") var uplink: String?
    @Option(name: .customLong("address"), help: "An address of the domain (repeat for more).") var addresses: [String] = []
    @Option(name: .customLong("router"), help: "A router's link-local address on the uplink.") var routers: [String] = []
    @Option(name: .customLong("on-link"), help: "A prefix on the uplink's link.") var onLink: [String] = []
    @Option(name: .customLong("dns"), help: "A DNS server.") var dns: [String] = []
    @Option(name: .customLong("search"), help: "A DNS search domain.") var search: [String] = []
    @Option(help: "An OpenVPN client configuration: the domain's only way out is its tunnel.") var openvpn: String?
    @Option(help: "A WireGuard configuration (wg-quick's format): the domain's only way out is its tunnel.") var wireguard: String?
    @Option(help: "An OpenConnect server (https://host[:port]): the domain's only way out is its tunnel.") var openconnect: String?
    @Option(help: "OpenConnect: the protocol (anyconnect, nc, gp, pulse, f5, fortinet, array).") var `protocol`: String?
    @Option(help: "OpenConnect: the user name.") var user: String?
    @Option(name: .customLong("password-file"), help: "OpenConnect: root's file with the password.") var passwordFile: String?
    @Option(help: "OpenConnect: a client certificate.") var certificate: String?
    @Option(help: "OpenConnect: the certificate's key, root's file.") var key: String?
    @Option(name: .customLong("cookie-file"), help: "OpenConnect: root's file with a cookie from openconnect --authenticate.") var cookieFile: String?
    @Option(help: "OpenConnect: the server certificate's pin (pin-sha256:…).") var servercert: String?

    func validate() throws {
        let vpns = [openvpn, wireguard, openconnect].compactMap { $0 }
        if vpns.count > 1 { throw ValidationError("a VPN domain has one client: --openvpn, --wireguard or --openconnect") }
        if !vpns.isEmpty, uplink != nil || !addresses.isEmpty || !routers.isEmpty || !onLink.isEmpty || !dns.isEmpty || !search.isEmpty {
            throw ValidationError("a VPN domain takes its addresses, routes and DNS from its tunnel: give only the client's settings")
        }
        if openconnect == nil, [`protocol`, user, passwordFile, certificate, key, cookieFile, servercert].contains(where: { $0 != nil }) {
            throw ValidationError("--protocol, --user, --password-file, --certificate, --key, --cookie-file and --servercert go with --openconnect")
        }
        if vpns.isEmpty, uplink == nil { throw ValidationError("a static domain needs --uplink (or give --openvpn, --wireguard or --openconnect)") }
    }

    func run(with client: PvDClient) throws(BusError) {
        let settings: BusValue
        if let openvpn {
            settings = .dictionary([("openvpn", .string(absolute(openvpn)))])
        } else if let wireguard {
            settings = .dictionary([("wireguard", .string(absolute(wireguard)))])
        } else if let openconnect {
            let files = [("password-file", passwordFile), ("certificate", certificate), ("key", key), ("cookie-file", cookieFile)]
            let entries: [(String, BusValue)] =
                [("openconnect", .string(openconnect))]
                + [("protocol", `protocol`), ("user", user), ("servercert", servercert)].compactMap { pair in pair.1.map { (pair.0, .string($0)) } }
                + files.compactMap { pair in pair.1.map { (pair.0, .string(absolute($0))) } }
            settings = .dictionary(entries)
        } else {
            settings = .dictionary([
                ("uplink", .string(uplink ?? "")), ("addresses", .strings(addresses)), ("routers", .strings(routers)),
                ("on_link", .strings(onLink)), ("dns", .strings(dns)), ("search", .strings(search)),
            ])
        }
        printLine(try client.manager(.addDomain, [.string(name), settings]).first?.text ?? "")
    }

    /// pvdd takes absolute paths; a relative one is the caller's.
    private func absolute(_ path: String) -> String {
        guard !path.hasPrefix("/") else { return path }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return path }
        return String(cBuffer: buffer) + "/" + path
    }
}

struct Remove: DaemonCommand {
    static let configuration = CommandConfiguration(abstract: "Remove a static, VPN or namespace domain (as root).")
    @Argument(help: "The domain's full name.") var name: String

    func run(with client: PvDClient) throws(BusError) {
        _ = try client.manager(.removeDomain, [.string(name)])
        printLine("removed \(name)")
    }
}

struct Monitor: DaemonCommand {
    static let configuration = CommandConfiguration(abstract: "Print domain events as they happen.")
    @Flag(help: "JSON, one object per event.") var json = false

    func run(with client: PvDClient) throws(BusError) {
        try client.connection.watchSignals(from: PvDBusAPI.busName) { interface, member, path, arguments in
            if json {
                printLine(
                    JSONValue.object([
                        JSONMember("event", .string(member)), JSONMember("path", .string(path)),
                        JSONMember("arguments", .array(arguments.map(jsonValue))),
                    ]).serialized)
            } else if member == "PropertiesChanged", let name = PvDBusAPI.domainName(ofPath: path) {
                // What changed, in the domain's own words: its state and why.
                let properties = Dictionary((try? client.properties(of: path)) ?? [], uniquingKeysWith: { first, _ in first })
                let state = properties[PvDBusAPI.Property.state.rawValue].map(text) ?? "-"
                let reason = properties[PvDBusAPI.Property.stateReason.rawValue].map(text) ?? "-"
                printLine("\(Monitor.now())  changed  \(name)  \(state): \(reason)")
            } else if interface == PvDBusAPI.managerInterface, let name = arguments.first?.text {
                printLine("\(Monitor.now())  \(member == PvDBusAPI.Signal.domainAdded.rawValue ? "added  " : "removed")  \(name)")
            }
            return true
        }
    }
}

extension Monitor {
    /// The local time, `HH:MM:SS`.
    static func now() -> String {
        var clock = time(nil)
        var parts = tm()
        localtime_r(&clock, &parts)
        var buffer = [CChar](repeating: 0, count: 16)
        strftime(&buffer, buffer.count, "%H:%M:%S", &parts)
        return String(cBuffer: buffer)
    }
}

struct ProcessList: DaemonCommand {
    static let configuration = CommandConfiguration(
        commandName: "ps", abstract: "The programs running in the domains (yours; root sees everyone's).")
    @Argument(help: "A domain's name, or an unambiguous start of it; none: every domain.") var name: String?
    @Flag(help: "JSON: an array of {domain, pid, user, command}.") var json = false

    func run(with client: PvDClient) throws(BusError) {
        guard case .array(_, let items)? = try client.manager(.listPrograms, [.string(name ?? "")]).first else { return }
        let rows: [[String]] = items.compactMap {
            guard case .structure(let fields) = $0, fields.count == 4, let domain = fields[0].text, case .uint32(let pid) = fields[1],
                let user = fields[2].text, let command = fields[3].text
            else { return nil }
            return [domain, String(pid), user, command]
        }
        if json {
            printLine(
                JSONValue.array(
                    rows.map {
                        .object([
                            JSONMember("domain", .string($0[0])), JSONMember("pid", .integer(Int64($0[1]) ?? 0)), JSONMember("user", .string($0[2])),
                            JSONMember("command", .string($0[3])),
                        ])
                    }
                ).serialized)
        } else {
            printTable([["DOMAIN", "PID", "USER", "COMMAND"]] + rows)
        }
    }
}

struct Reload: DaemonCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make pvdd read pvdd.yaml and domains.d again: access, aliases and declared domains (as root).")

    func run(with client: PvDClient) throws(BusError) {
        _ = try client.manager(.reload)
        printLine("reloaded")
    }
}

struct Apply: DaemonCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make the declared state (static domains, VPN domains and namespaces) that of FILE, all or nothing.",
        discussion: """
            Applying is root's, or a user's whom polkit authorizes (org.pvd1.manage-domains). --dry-run, --check and \
            --diff are worked out by pvd itself and work for everyone. For configuration management (Ansible, Salt, \
            Puppet): --check changes nothing and exits 0 when the declared state is already FILE's, 2 when applying \
            would change it, 1 on an error (docs/fleet.md).
            """)
    @Argument(help: "A YAML file, as pvd show --yaml prints.") var file: String
    @Flag(help: "Only show what would change.") var dryRun = false
    @Flag(help: "Change nothing; exit 0 when nothing would change, 2 when something would, 1 on an error.") var check = false
    @Flag(help: "Show the declared state's lines FILE removes (-) and adds (+), before applying (if at all).") var diff = false
    @Option(
        help: ArgumentHelp(
            "Save FILE as a drop-in NAME.yaml in DIRECTORY (default /etc/pvd/domains.d), so that it "
                + "stays across restarts, and have pvdd reload (as root).", valueName: "name"))
    var saveAs: String?
    @Option(help: "The drop-in directory for --save-as.") var directory = "/etc/pvd/\(ConfigurationFiles.dropInDirectory)"

    func run(with client: PvDClient) throws(BusError) {
        let text: String
        do { text = String(decoding: try readFile(file, limit: YAMLLimits.maximumBytes), as: UTF8.self) } catch {
            throw BusError(PvDBusAPI.ErrorName.invalidArguments, error.description)
        }
        if let saveAs {
            try save(text, as: saveAs, client: client)
            return
        }
        let changesOnly = dryRun || check
        if changesOnly || diff {
            // Worked out here, not by pvdd: a caller's document is parsed by the caller.
            guard case .string(let currentText)? = try client.manager(.getState).first else { return }
            let (current, target): (DeclarativeState, DeclarativeState)
            do {
                target = try DeclarativeState(try YAMLDocument.parse(text))
                current = try DeclarativeState(try YAMLDocument.parse(currentText))
            } catch {
                throw BusError(PvDBusAPI.ErrorName.invalidArguments, "\(file): \(error)")
            }
            if diff { for line in Apply.difference(from: current.yaml, to: target.yaml) { printLine(line) } }
            if changesOnly {
                let changes = current.changes(to: target).map(\.description)
                if changes.isEmpty { printLine("nothing to change") }
                for change in changes { printLine("would " + change) }
                if check, !changes.isEmpty { Glibc.exit(2) }
                return
            }
        }
        guard case .array(_, let values)? = try client.manager(.applyState, [.string(text), .boolean(false)]).first else { return }
        let changes = values.compactMap(\.text)
        if changes.isEmpty { printLine("nothing to change") }
        for change in changes { printLine(change) }
    }

    /// The entries of `old` that `new` lacks (each line `- `) and those it
    /// adds (`+ `). The declared state's YAML has an entry per list item
    /// (a domain or a VPN, with its indented lines) or top-level line.
    static func difference(from old: String, to new: String) -> [String] {
        func entries(_ text: String) -> [[String]] {
            var result: [[String]] = []
            for line in text.split(separator: "\n").map(String.init) where !line.hasPrefix("#") {
                if line.hasPrefix("    "), !result.isEmpty { result[result.count - 1].append(line) } else { result.append([line]) }
            }
            return result
        }
        let (before, after) = (entries(old), entries(new))
        return before.filter { !after.contains($0) }.flatMap { $0.map { "- " + $0 } } + after.filter { !before.contains($0) }.flatMap { $0.map { "+ " + $0 } }
    }

    /// Writes the file as a drop-in once it reads, then has pvdd reload: the
    /// domains are then declared in files (and a reload that fails leaves the
    /// drop-in out again).
    private func save(_ text: String, as name: String, client: PvDClient) throws(BusError) {
        guard (try? DomainNaming.validate(name)) != nil, !name.contains("/") else {
            throw BusError(PvDBusAPI.ErrorName.invalidArguments, "--save-as \(name): use a-z, 0-9, '.', '-', '_'")
        }
        do { _ = try DeclarativeState(try YAMLDocument.parse(text)) } catch {
            throw BusError(PvDBusAPI.ErrorName.invalidArguments, "\(file): \(error)")
        }
        let path = "\(directory)/\(name).yaml"
        let previous = try? readFile(path, limit: YAMLLimits.maximumBytes)
        guard writeFile(path, Array(text.utf8)) else {
            throw BusError(PvDBusAPI.ErrorName.failed, "\(path): \(String(cString: strerror(errno)))")
        }
        do { _ = try client.manager(.reload) } catch {
            if let previous { _ = writeFile(path, previous) } else { unlink(path) }
            throw error
        }
        printLine("saved as \(path); pvdd reloaded")
    }
}

/// Writes `bytes` to `path` through a temporary file beside it (atomically).
func writeFile(_ path: String, _ bytes: [UInt8]) -> Bool {
    let temporary = path + ".tmp"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644)
    guard fd >= 0 else { return false }
    let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
    guard written == bytes.count, rename(temporary, path) == 0 else {
        unlink(temporary)
        return false
    }
    return true
}
