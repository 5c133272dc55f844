import BusWire
import CommandSyntax
import Systemd

struct Remove: DaemonCommand {
    static let command = Command(
        "remove", abstract: "Remove a static, VPN or namespace domain (as root).", arguments: [Argument("name", help: "The domain's full name.")],
        action: action)
    let name: String

    init(_ arguments: Arguments) { name = arguments.argument("name") ?? "" }

    func run(with client: PvDClient) throws(BusError) {
        _ = try client.manager(.removeDomain, [.string(name)])
        printLine("removed \(name)")
    }
}
