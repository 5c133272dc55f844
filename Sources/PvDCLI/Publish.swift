import BusWire
import CommandSyntax
import Glibc
import LinuxSystem
import PvDConfig
import PvDCore
import PvDWire
import Systemd

/// `pvd publish DOMAIN HOST:PORT[/udp]`: a port of the host that leads to a
/// learnt domain (``PublishedPort``, docs/services.md), kept in the drop-in
/// `domains.d/ports-DOMAIN.yaml` beside pvdd.yaml, which pvdd then reloads;
/// `--remove` takes a port away; with no arguments, every published port
/// the configuration files hold.
struct Publish: DaemonCommand {
    static let command = Command(
        "publish", abstract: "Publish a port of the host as a port of a learnt domain (as root); with no arguments, list them.",
        discussion: """
            Connections to the host's own addresses at HOST reach the domain's address at PORT, from the host and \
            the prefixes --from names (default: the host only). Kept in domains.d/ports-DOMAIN.yaml beside the \
            configuration file; pvdd reloads. A static domain has its ports in its own entry (pvd apply).
            """,
        arguments: [
            Argument("domain", help: "The domain's full name.", optional: true),
            Argument("ports", help: "HOST:PORT, or HOST:PORT/udp (with --remove: HOST or HOST/udp).", optional: true),
        ],
        options: [
            .value("from", "source", help: "Who may connect: host, an IPv6 or an IPv4 prefix (repeatable).", repeats: true),
            .flag("remove", help: "Take the host port away."),
            .value("config", "file", help: "pvdd's configuration file, beside which the drop-ins are.", completion: .file),
        ],
        action: action)
    let domain: String?
    let mapping: String?
    let sources: [String]
    let remove: Bool
    let config: String

    init(_ arguments: Arguments) throws(UsageError) {
        (domain, mapping, sources, remove) = (arguments.argument("domain"), arguments.argument("ports"), arguments.values("from"), arguments.flag("remove"))
        config = arguments.value("config") ?? Paths.configurationFile
        if domain != nil, mapping == nil { throw UsageError("which port? pvd publish DOMAIN HOST:PORT[/udp]") }
        if domain == nil, remove || !sources.isEmpty { throw UsageError("which domain? pvd publish DOMAIN HOST:PORT[/udp]") }
        if remove, !sources.isEmpty { throw UsageError("--remove takes no --from") }
        if let domain { do { try DomainNaming.validate(domain) } catch { throw UsageError("\(error)") } }
    }

    func run(with client: PvDClient) throws(BusError) {
        let configuration = absolutePath(config)
        let files: ConfigurationFiles
        do {
            files = try ConfigurationFiles.read(
                configuration, mustExist: false, read: { HostFiles.read($0, limit: YAMLLimits.maximumBytes + 1) },
                why: { systemError("read", $0).reason }, entries: HostFiles.entries(of:))
        } catch { throw BusError(PvDBusAPI.ErrorName.invalidArguments, "\(error)") }
        guard let domain, let mapping else { return Publish.list(files.settings.ports) }
        let kind = try client.domains().first { $0.name == domain }?.kind
        if files.declared.names.contains(domain) || (kind != nil && kind != DomainKind.explicit.rawValue && kind != DomainKind.implicit.rawValue) {
            throw BusError(
                PvDBusAPI.ErrorName.invalidArguments,
                "\(domain) is not learnt from RAs: a static domain has its ports in its own entry (pvd apply), a VPN domain none")
        }
        let directory = ConfigurationFiles.dropInDirectory(of: configuration)
        let name = "ports-\(domain).yaml"
        var ports = files.settings.ports[domain] ?? []
        if HostFiles.read("\(directory)/\(name)") == nil, !ports.isEmpty {
            throw BusError(PvDBusAPI.ErrorName.invalidArguments, "the ports of \(domain) are published in \(configuration): change them there")
        }
        if remove {
            let (number, transport) = try Publish.hostPort(mapping)
            guard let index = ports.firstIndex(where: { $0.hostPort == number && $0.transport == transport }) else {
                throw BusError(PvDBusAPI.ErrorName.invalidArguments, "\(transport.rawValue) port \(number) of the host leads to no domain")
            }
            ports.remove(at: index)
        } else {
            ports.append(try port(mapping))
        }
        let text =
            ports.isEmpty
            ? nil
            : "# Written by pvd publish: ports of the host that lead to \(domain) (docs/services.md).\nports:\n  \(domain):\n"
                + ports.map { "    - \($0.yaml)\n" }.joined()
        try saveDropIn(text, directory: directory, name: name, client: client)
        printLine(remove ? "\(mapping) of the host no longer leads to \(domain); pvdd reloaded" : "\(mapping) leads to \(domain); pvdd reloaded")
    }

    /// The port to add, checked as the files' are (also against the others of the domain, at reload).
    private func port(_ mapping: String) throws(BusError) -> PublishedPort {
        guard var port = PublishedPort(mapping: mapping) else {
            throw BusError(PvDBusAPI.ErrorName.invalidArguments, "\(mapping) is not HOST:PORT or HOST:PORT/udp (ports 1 to 65535)")
        }
        var entry = port.json
        if !sources.isEmpty, case .object(let members) = entry {
            entry = .object(members.filter { $0.key != "from" } + [JSONMember("from", .array(sources.map(JSONValue.string)))])
        }
        do { port = try PublishedPort(json: entry) } catch { throw BusError(PvDBusAPI.ErrorName.invalidArguments, "--\(error)") }
        return port
    }

    /// `HOST` or `HOST/udp`.
    private static func hostPort(_ text: String) throws(BusError) -> (UInt16, PublishedPort.Transport) {
        guard let port = PublishedPort(mapping: text.contains(text: "/") ? text.replacing(text: "/", with: ":1/") : text + ":1") else {
            throw BusError(PvDBusAPI.ErrorName.invalidArguments, "\(text) is not HOST or HOST/udp")
        }
        return (port.hostPort, port.transport)
    }

    private static func list(_ table: [String: [PublishedPort]]) {
        var rows = [["DOMAIN", "HOST", "PORT", "PROTOCOL", "FROM"]]
        for (domain, ports) in table.sorted(by: { $0.key < $1.key }) {
            for port in ports {
                rows.append([domain, "\(port.hostPort)", "\(port.domainPort)", port.transport.rawValue, port.sources.joined(separator: ",")])
            }
        }
        if rows.count > 1 { printTable(rows) }
    }
}
