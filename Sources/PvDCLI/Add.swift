import BusWire
import CommandSyntax
import Glibc
import PvDCore
import PvDWire
import Systemd

struct Add: DaemonCommand {
    static let command = Command(
        "add", abstract: "Add a static domain, or a VPN domain (as root).",
        discussion: """
            A static domain: --uplink with its addresses, routers, prefixes and DNS.
            A VPN domain: --openvpn FILE (an OpenVPN client configuration) or --wireguard FILE \
            (wg-quick's format), both root's files readable by root only; or --openconnect SERVER \
            with --user and --password-file, --certificate and --key, or --cookie-file \
            (and --servercert pin-sha256:…, --protocol).
            """,
        arguments: [Argument("name", help: "The new domain's name.")],
        options: [
            .value("uplink", help: "The uplink it is attached to.", completion: .interface),
            .value("address", help: "An address of the domain (repeat for more).", repeats: true),
            .value("router", help: "A router's link-local address on the uplink.", repeats: true),
            .value("on-link", help: "A prefix on the uplink's link.", repeats: true),
            .value("dns", help: "A DNS server.", repeats: true),
            .value("search", help: "A DNS search domain.", repeats: true),
            .value("openvpn", "file", help: "An OpenVPN client configuration: the domain's only way out is its tunnel.", completion: .file),
            .value("wireguard", "file", help: "A WireGuard configuration (wg-quick's format): the domain's only way out is its tunnel.", completion: .file),
            .value("openconnect", "server", help: "An OpenConnect server (https://host[:port]): the domain's only way out is its tunnel."),
            .value(
                "protocol", help: "OpenConnect: the protocol (anyconnect, nc, gp, pulse, f5, fortinet, array).",
                completion: .words(["anyconnect", "nc", "gp", "pulse", "f5", "fortinet", "array"])),
            .value("user", help: "OpenConnect: the user name."),
            .value("password-file", "file", help: "OpenConnect: root's file with the password.", completion: .file),
            .value("certificate", "file", help: "OpenConnect: a client certificate.", completion: .file),
            .value("key", "file", help: "OpenConnect: the certificate's key, root's file.", completion: .file),
            .value("cookie-file", "file", help: "OpenConnect: root's file with a cookie from openconnect --authenticate.", completion: .file),
            .value("servercert", "pin", help: "OpenConnect: the server certificate's pin (pin-sha256:…)."),
        ],
        action: action)

    let name: String
    let uplink: String?
    let addresses, routers, onLink, dns, search: [String]
    let openvpn, wireguard, openconnect: String?
    let `protocol`, user, passwordFile, certificate, key, cookieFile, servercert: String?

    init(_ arguments: Arguments) throws(UsageError) {
        name = arguments.argument("name") ?? ""
        uplink = arguments.value("uplink")
        (addresses, routers, onLink) = (arguments.values("address"), arguments.values("router"), arguments.values("on-link"))
        (dns, search) = (arguments.values("dns"), arguments.values("search"))
        (openvpn, wireguard, openconnect) = (arguments.value("openvpn"), arguments.value("wireguard"), arguments.value("openconnect"))
        (`protocol`, user, passwordFile) = (arguments.value("protocol"), arguments.value("user"), arguments.value("password-file"))
        (certificate, key, cookieFile) = (arguments.value("certificate"), arguments.value("key"), arguments.value("cookie-file"))
        servercert = arguments.value("servercert")
        let vpns = [openvpn, wireguard, openconnect].compactMap { $0 }
        if vpns.count > 1 { throw UsageError("a VPN domain has one client: --openvpn, --wireguard or --openconnect") }
        if !vpns.isEmpty, uplink != nil || !addresses.isEmpty || !routers.isEmpty || !onLink.isEmpty || !dns.isEmpty || !search.isEmpty {
            throw UsageError("a VPN domain takes its addresses, routes and DNS from its tunnel: give only the client's settings")
        }
        if openconnect == nil, [`protocol`, user, passwordFile, certificate, key, cookieFile, servercert].contains(where: { $0 != nil }) {
            throw UsageError("--protocol, --user, --password-file, --certificate, --key, --cookie-file and --servercert go with --openconnect")
        }
        if vpns.isEmpty, uplink == nil { throw UsageError("a static domain needs --uplink (or give --openvpn, --wireguard or --openconnect)") }
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

extension Add {
    /// The domain as an entry of a declared state (`pvd stage add`).
    func declaredEntry() throws(BusError) -> DeclarativeState {
        func strings(_ items: [String]) -> JSONValue { .array(items.map(JSONValue.string)) }
        var members: [JSONMember] = [JSONMember("name", .string(name))]
        let section: String
        if let openvpn {
            (section, members) = ("vpns", members + [JSONMember("openvpn", .string(absolutePath(openvpn)))])
        } else if let wireguard {
            (section, members) = ("vpns", members + [JSONMember("wireguard", .string(absolutePath(wireguard)))])
        } else if let openconnect {
            let files = [("password-file", passwordFile), ("certificate", certificate), ("key", key), ("cookie-file", cookieFile)]
            let settings =
                [JSONMember("server", .string(openconnect))]
                + [("protocol", `protocol`), ("user", user), ("servercert", servercert)].compactMap { pair in pair.1.map { JSONMember(pair.0, .string($0)) } }
                + files.compactMap { pair in pair.1.map { JSONMember(pair.0, .string(absolutePath($0))) } }
            (section, members) = ("vpns", members + [JSONMember("openconnect", .object(settings))])
        } else {
            let lists = [("addresses", addresses), ("routers", routers), ("on_link", onLink), ("dns", dns), ("search", search)]
            section = "domains"
            members += [JSONMember("uplink", .string(uplink ?? ""))] + lists.filter { !$0.1.isEmpty }.map { JSONMember($0.0, strings($0.1)) }
        }
        do { return try DeclarativeState(.object([JSONMember(section, .array([.object(members)]))])) } catch {
            throw BusError(PvDBusAPI.ErrorName.invalidArguments, error.description)
        }
    }
}
