import ArgumentParser
import BusWire
import Systemd

struct Reload: DaemonCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make pvdd read pvdd.yaml and domains.d again: access, aliases and declared domains (as root).")

    func run(with client: PvDClient) throws(BusError) {
        _ = try client.manager(.reload)
        printLine("reloaded")
    }
}
