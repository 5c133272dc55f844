import BusWire
import CommandSyntax
import PvDWire
import Systemd

struct ProcessList: DaemonCommand {
    static let command = Command(
        "ps", abstract: "The programs running in the domains (yours; root sees everyone's).",
        arguments: [Argument("name", help: "A domain's name, or an unambiguous start of it; none: every domain.", optional: true)],
        options: [.flag("json", help: "JSON: an array of {domain, pid, user, command}.")], action: action)
    let name: String?
    let json: Bool

    init(_ arguments: Arguments) { (name, json) = (arguments.argument("name"), arguments.flag("json")) }

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
