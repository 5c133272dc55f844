import ArgumentParser
import BusWire
import Systemd

struct Remove: DaemonCommand {
    static let configuration = CommandConfiguration(abstract: "Remove a static, VPN or namespace domain (as root).")
    @Argument(help: "The domain's full name.") var name: String

    func run(with client: PvDClient) throws(BusError) {
        _ = try client.manager(.removeDomain, [.string(name)])
        printLine("removed \(name)")
    }
}
