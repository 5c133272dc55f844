import BusWire
import CommandSyntax
import PvDWire
import Systemd

struct List: DaemonCommand {
    static let command = Command(
        "list", abstract: "List the domains.", options: [.flag("json", help: "JSON: an array of domains (docs/dbus-api.md, \"JSON\").")], action: action)
    let json: Bool

    init(_ arguments: Arguments) { json = arguments.flag("json") }

    func run(with client: PvDClient) throws(BusError) {
        var rows = [["NAME", "KIND", "FROM", "STATE", "UPLINKS", "ADDRESSES"]]
        var objects: [JSONValue] = []
        for domain in try client.domains() {
            let properties = Dictionary(try client.properties(of: domain.path), uniquingKeysWith: { first, _ in first })
            objects.append(domainJSON(properties))
            rows.append([
                domain.name, domain.kind + (saysNoInternet(properties) ? " (no Internet)" : ""), properties["Origin"].map(text) ?? "-",
                properties["State"].map(text) ?? "-",
                properties["Uplinks"].map(text) ?? "-", properties["Addresses"].map(text) ?? "-",
            ])
        }
        if json { printLine(JSONValue.array(objects).serialized) } else { printTable(rows) }
    }
}
