import BusWire
import CommandSyntax
import LinuxSystem
import Systemd

/// `pvd which NAME|URL`: the domain that claims a destination (org.pvd1's
/// ChooseDomain over every PvD's dnsZones and splitDnsClaims).
struct Which: DaemonCommand {
    static let command = Command(
        "which", abstract: "Say which domain a host name or URL belongs to.",
        discussion: """
            The domain whose additional information claims the longest zone holding the name (dnsZones, and \
            splitDnsClaims under its PvD ID's parent). No claim: the one domain that does not say noInternet, if \
            there is exactly one. Exit status 1 when no domain or several are left: the candidates are printed. \
            pvd exec --for runs a command in the domain chosen here.
            """,
        arguments: [Argument("destination", help: "A host name or a URL (https://intranet.corp.example/…).")],
        action: action)
    let destination: String

    init(_ arguments: Arguments) { destination = arguments.argument("destination") ?? "" }

    func run(with client: PvDClient) throws(BusError) {
        let reply = try client.manager(.chooseDomain, [.string(destination)])
        guard reply.count == 3, let chosen = reply[0].text, case .array(_, let candidates) = reply[1], let explanation = reply[2].text else {
            throw BusError(PvDBusAPI.ErrorName.failed, "pvdd gave no choice")
        }
        if chosen.isEmpty {
            printError(explanation)
            for candidate in candidates.compactMap(\.text) { printLine(candidate) }
            throw BusError(PvDBusAPI.ErrorName.failed, "no single domain for \(destination)")
        }
        printLine(chosen)
        printError(explanation)
    }
}
