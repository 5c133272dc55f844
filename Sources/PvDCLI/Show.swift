import BusWire
import CommandSyntax
import Glibc
import PvDWire
import Systemd

struct Show: DaemonCommand {
    static let command = Command(
        "show", abstract: "Show one domain, or with --yaml the declared state.",
        arguments: [Argument("name", help: "The domain's name (or its PvD ID), or an unambiguous start of it.", optional: true)],
        options: [
            .flag("json", help: "JSON: one domain (docs/dbus-api.md, \"JSON\")."),
            .flag("yaml", help: "The declared state (static domains and namespaces), as pvd apply takes it."),
        ],
        action: action)
    let name: String?
    let json, yaml: Bool

    init(_ arguments: Arguments) throws(UsageError) {
        (name, json, yaml) = (arguments.argument("name"), arguments.flag("json"), arguments.flag("yaml"))
        if yaml, name != nil || json { throw UsageError("--yaml shows the whole declared state: no NAME, no --json") }
        if !yaml, name == nil { throw UsageError("which domain? pvd show NAME (or pvd show --yaml)") }
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
    static let command = Command(
        "status", abstract: "Routers, addresses, DNS and lifetimes of every domain.",
        options: [.flag("json", help: "JSON: an array of domains (docs/dbus-api.md, \"JSON\").")], action: action)
    let json: Bool

    init(_ arguments: Arguments) { json = arguments.flag("json") }

    func run(with client: PvDClient) throws(BusError) {
        var objects: [JSONValue] = []
        for domain in try client.domains() {
            let properties = Dictionary(try client.properties(of: domain.path), uniquingKeysWith: { first, _ in first })
            if json { objects.append(domainJSON(properties)) } else { printDomain(domain.name, properties, all: false) }
        }
        if json { printLine(JSONValue.array(objects).serialized) }
    }
}
