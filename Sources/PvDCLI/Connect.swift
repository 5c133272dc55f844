import BusWire
import CommandSyntax
import Glibc
import LinuxSystem
import Systemd

/// `pvd connect DOMAIN HOST PORT`: a TCP connection made inside a domain
/// through org.pvd1 (ResolveName, then OpenSocket), joined to stdin and
/// stdout like netcat, for scripts. Needs no privilege beyond pvdd.yaml's
/// access section.
struct Connect: DaemonCommand {
    static let command = Command(
        "connect", abstract: "Connect stdin and stdout to HOST PORT through a domain.",
        discussion: """
            HOST is resolved by the domain's own DNS servers (its search list applied); every address is tried in \
            turn, each for --timeout seconds. When stdin ends, the sending side is shut; the command ends when the \
            other side closes. Exit status 1 when no address answers.
            """,
        arguments: [
            Argument("domain", help: "The domain's name, or an unambiguous start of it."),
            Argument("host", help: "A host name or an address."), Argument("port", help: "The TCP port."),
        ],
        options: [
            .value("timeout", "seconds", help: "How long each address may take to connect (default 10)."),
            .flag("ipv4", short: "4", help: "IPv4 addresses only."), .flag("ipv6", short: "6", help: "IPv6 addresses only."),
        ],
        action: action)
    let domain, host: String
    let port: UInt16
    let timeout: Int32
    let family: Int32

    init(_ arguments: Arguments) throws(UsageError) {
        domain = arguments.argument("domain") ?? ""
        host = arguments.argument("host") ?? ""
        guard let port = UInt16(arguments.argument("port") ?? ""), port > 0 else { throw UsageError("the port must be a number from 1 to 65535") }
        self.port = port
        let seconds = arguments.value("timeout").map { Double($0) } ?? 10
        guard let seconds, seconds > 0, seconds <= 600 else { throw UsageError("--timeout takes seconds, more than 0 and at most 600") }
        timeout = Int32(seconds * 1000)
        guard !(arguments.flag("ipv4") && arguments.flag("ipv6")) else { throw UsageError("--ipv4 or --ipv6, not both") }
        family = arguments.flag("ipv4") ? AF_INET : arguments.flag("ipv6") ? AF_INET6 : AF_UNSPEC
    }

    func run(with client: PvDClient) throws(BusError) {
        var failures: [String] = []
        for (addressFamily, bytes) in try addresses(client) {
            guard
                case .unixFD(let fd)? = try client.manager(
                    .openSocket, [.string(domain), .int32(addressFamily), .int32(Int32(SOCK_STREAM.rawValue)), .int32(0)]
                ).first
            else {
                throw BusError(PvDBusAPI.ErrorName.failed, "pvdd gave no socket")
            }
            defer { close(fd) }
            if let problem = StreamConnection.connect(fd, family: addressFamily, address: bytes, port: port, timeout: timeout) {
                failures.append("\(StreamConnection.text(family: addressFamily, bytes: bytes)): \(problem)")
                continue
            }
            StreamConnection.pipe(fd)
            return
        }
        throw BusError(PvDBusAPI.ErrorName.failed, "cannot connect to \(host) port \(port) through \(domain): \(failures.joined(separator: "; "))")
    }

    /// HOST's addresses: itself when it is one, else the domain's DNS answers.
    private func addresses(_ client: PvDClient) throws(BusError) -> [(Int32, [UInt8])] {
        if let address = StreamConnection.numericAddress(host, family: family) { return [address] }
        guard case .array(_, let items)? = try client.manager(.resolveName, [.string(domain), .string(host), .int32(family)]).first else {
            throw BusError(PvDBusAPI.ErrorName.failed, "pvdd gave no addresses")
        }
        return items.compactMap {
            guard case .structure(let fields) = $0, fields.count == 2, case .int32(let family) = fields[0], case .array(_, let bytes) = fields[1] else {
                return nil
            }
            return (family, bytes.compactMap { if case .byte(let byte) = $0 { byte } else { nil } })
        }
    }
}
