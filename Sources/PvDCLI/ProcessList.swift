import ArgumentParser
import BusWire
import PvDWire
import Systemd

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
