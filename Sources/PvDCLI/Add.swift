import ArgumentParser
import BusWire
import Glibc
import PvDCore
import Systemd

struct Add: DaemonCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add a static domain, or a VPN domain (as root).",
        discussion: """
            A static domain: --uplink with its addresses, routers, prefixes and DNS.
            A VPN domain: --openvpn FILE (an OpenVPN client configuration) or --wireguard FILE
            (wg-quick's format), both root's files readable by root only; or --openconnect SERVER
            with --user and --password-file, --certificate and --key, or --cookie-file
            (and --servercert pin-sha256:…, --protocol).
            """)
    @Argument(help: "The new domain's name.") var name: String
    @Option(help: "The uplink it is attached to.") var uplink: String?
    @Option(name: .customLong("address"), help: "An address of the domain (repeat for more).") var addresses: [String] = []
    @Option(name: .customLong("router"), help: "A router's link-local address on the uplink.") var routers: [String] = []
    @Option(name: .customLong("on-link"), help: "A prefix on the uplink's link.") var onLink: [String] = []
    @Option(name: .customLong("dns"), help: "A DNS server.") var dns: [String] = []
    @Option(name: .customLong("search"), help: "A DNS search domain.") var search: [String] = []
    @Option(help: "An OpenVPN client configuration: the domain's only way out is its tunnel.") var openvpn: String?
    @Option(help: "A WireGuard configuration (wg-quick's format): the domain's only way out is its tunnel.") var wireguard: String?
    @Option(help: "An OpenConnect server (https://host[:port]): the domain's only way out is its tunnel.") var openconnect: String?
    @Option(help: "OpenConnect: the protocol (anyconnect, nc, gp, pulse, f5, fortinet, array).") var `protocol`: String?
    @Option(help: "OpenConnect: the user name.") var user: String?
    @Option(name: .customLong("password-file"), help: "OpenConnect: root's file with the password.") var passwordFile: String?
    @Option(help: "OpenConnect: a client certificate.") var certificate: String?
    @Option(help: "OpenConnect: the certificate's key, root's file.") var key: String?
    @Option(name: .customLong("cookie-file"), help: "OpenConnect: root's file with a cookie from openconnect --authenticate.") var cookieFile: String?
    @Option(help: "OpenConnect: the server certificate's pin (pin-sha256:…).") var servercert: String?

    func validate() throws {
        let vpns = [openvpn, wireguard, openconnect].compactMap { $0 }
        if vpns.count > 1 { throw ValidationError("a VPN domain has one client: --openvpn, --wireguard or --openconnect") }
        if !vpns.isEmpty, uplink != nil || !addresses.isEmpty || !routers.isEmpty || !onLink.isEmpty || !dns.isEmpty || !search.isEmpty {
            throw ValidationError("a VPN domain takes its addresses, routes and DNS from its tunnel: give only the client's settings")
        }
        if openconnect == nil, [`protocol`, user, passwordFile, certificate, key, cookieFile, servercert].contains(where: { $0 != nil }) {
            throw ValidationError("--protocol, --user, --password-file, --certificate, --key, --cookie-file and --servercert go with --openconnect")
        }
        if vpns.isEmpty, uplink == nil { throw ValidationError("a static domain needs --uplink (or give --openvpn, --wireguard or --openconnect)") }
    }

    func run(with client: PvDClient) throws(BusError) {
        let settings: BusValue
        if let openvpn {
            settings = .dictionary([("openvpn", .string(absolutePath(openvpn)))])
        } else if let wireguard {
            settings = .dictionary([("wireguard", .string(absolutePath(wireguard)))])
        } else if let openconnect {
            let files = [("password-file", passwordFile), ("certificate", certificate), ("key", key), ("cookie-file", cookieFile)]
            let entries: [(String, BusValue)] =
                [("openconnect", .string(openconnect))]
                + [("protocol", `protocol`), ("user", user), ("servercert", servercert)].compactMap { pair in pair.1.map { (pair.0, .string($0)) } }
                + files.compactMap { pair in pair.1.map { (pair.0, .string(absolutePath($0))) } }
            settings = .dictionary(entries)
        } else {
            settings = .dictionary([
                ("uplink", .string(uplink ?? "")), ("addresses", .strings(addresses)), ("routers", .strings(routers)),
                ("on_link", .strings(onLink)), ("dns", .strings(dns)), ("search", .strings(search)),
            ])
        }
        printLine(try client.manager(.addDomain, [.string(name), settings]).first?.text ?? "")
    }
}
