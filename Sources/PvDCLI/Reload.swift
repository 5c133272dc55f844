import BusWire
import CommandSyntax
import Systemd

struct Reload: DaemonCommand {
    static let command = Command(
        "reload", abstract: "Make pvdd read pvdd.yaml and domains.d again: access, aliases and declared domains (as root).", action: action)

    init(_ arguments: Arguments) {}

    func run(with client: PvDClient) throws(BusError) {
        _ = try client.manager(.reload)
        printLine("reloaded")
    }
}
