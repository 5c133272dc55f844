import ArgumentParser
import BusWire
import Glibc
import PvDWire
import Systemd

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
