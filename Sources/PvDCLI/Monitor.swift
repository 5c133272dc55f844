import BusWire
import CommandSyntax
import LinuxSystem
import PvDWire
import Systemd

struct Monitor: DaemonCommand {
    static let command = Command(
        "monitor", abstract: "Print domain events as they happen.", options: [.flag("json", help: "JSON, one object per event.")], action: action)
    let json: Bool

    init(_ arguments: Arguments) { json = arguments.flag("json") }

    func run(with client: PvDClient) throws(BusError) {
        // Each domain's additional information as last seen, to tell when its document changes.
        var documents: [String: String] = [:]
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
                printLine("\(SystemClock.localTimeOfDay())  changed  \(name)  \(state): \(reason)")
                let information = properties[PvDBusAPI.Property.additionalInfo.rawValue]?.text ?? ""
                if information != documents[name, default: ""] {
                    documents[name] = information
                    let status = (try? JSONValue.parse(Array(information.utf8)))?["status"].map { jsonValue in
                        if case .string(let text) = jsonValue { text } else { jsonValue.serialized }
                    }
                    let claims = properties[PvDBusAPI.Property.claims.rawValue].map(text) ?? "-"
                    printLine("\(SystemClock.localTimeOfDay())  information  \(name)  \(status ?? "none"); claims: \(claims)")
                }
            } else if interface == PvDBusAPI.managerInterface, let name = arguments.first?.text {
                switch PvDBusAPI.Signal(rawValue: member) {
                case .domainAdded?: printLine("\(SystemClock.localTimeOfDay())  added    \(name)")
                case .domainRemoved?: printLine("\(SystemClock.localTimeOfDay())  removed  \(name)")
                case .checkpointConfirmed?: printLine("\(SystemClock.localTimeOfDay())  confirmed  \(name)")
                case .checkpointRolledBack?:
                    let reason = arguments.count > 1 ? arguments[1].text ?? "" : ""
                    printLine("\(SystemClock.localTimeOfDay())  rolled back  \(name)  \(reason)")
                case nil: break
                }
            }
            return true
        }
    }
}
