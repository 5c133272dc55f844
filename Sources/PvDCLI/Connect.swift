import BusWire
import CommandSyntax
import Glibc
import PvDCore
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
            let text = addressText(addressFamily, bytes)
            guard
                case .unixFD(let fd)? = try client.manager(
                    .openSocket, [.string(domain), .int32(addressFamily), .int32(Int32(SOCK_STREAM.rawValue)), .int32(0)]
                ).first
            else {
                throw BusError(PvDBusAPI.ErrorName.failed, "pvdd gave no socket")
            }
            if let problem = connect(fd, addressFamily, bytes) {
                close(fd)
                failures.append("\(text): \(problem)")
                continue
            }
            pump(fd)
            close(fd)
            return
        }
        throw BusError(PvDBusAPI.ErrorName.failed, "cannot connect to \(host) port \(port) through \(domain): \(failures.joined(separator: "; "))")
    }

    /// HOST's addresses: itself when it is one, else the domain's DNS answers.
    private func addresses(_ client: PvDClient) throws(BusError) -> [(Int32, [UInt8])] {
        var v6 = in6_addr()
        var v4 = in_addr()
        if family != AF_INET, inet_pton(AF_INET6, host, &v6) == 1 { return [(AF_INET6, withUnsafeBytes(of: v6) { Array($0) })] }
        if family != AF_INET6, inet_pton(AF_INET, host, &v4) == 1 { return [(AF_INET, withUnsafeBytes(of: v4) { Array($0) })] }
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

    /// Connects within the timeout; nil, or why not.
    private func connect(_ fd: Int32, _ addressFamily: Int32, _ bytes: [UInt8]) -> String? {
        var storage = sockaddr_storage()
        let length: Int
        if addressFamily == AF_INET6, bytes.count == 16 {
            withUnsafeMutableBytes(of: &storage) { raw in
                raw.storeBytes(of: sa_family_t(AF_INET6), toByteOffset: 0, as: sa_family_t.self)
                raw.storeBytes(of: port.bigEndian, toByteOffset: 2, as: UInt16.self)
                for index in 0..<16 { raw[8 + index] = bytes[index] }
            }
            length = MemoryLayout<sockaddr_in6>.size
        } else if addressFamily == AF_INET, bytes.count == 4 {
            withUnsafeMutableBytes(of: &storage) { raw in
                raw.storeBytes(of: sa_family_t(AF_INET), toByteOffset: 0, as: sa_family_t.self)
                raw.storeBytes(of: port.bigEndian, toByteOffset: 2, as: UInt16.self)
                for index in 0..<4 { raw[4 + index] = bytes[index] }
            }
            length = MemoryLayout<sockaddr_in>.size
        } else {
            return "an address pvd cannot use"
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        let started = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(length)) } }
        if started < 0 && errno != EINPROGRESS { return String(cString: strerror(errno)) }
        var polled = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard poll(&polled, 1, timeout) == 1 else { return "no answer within \(timeout / 1000) s" }
        var problem: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &problem, &size)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return problem == 0 ? nil : String(cString: strerror(problem))
    }

    /// Copies stdin to the socket and the socket to stdout until the other side closes.
    private func pump(_ fd: Int32) {
        var input = true
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            var polled = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: input ? STDIN_FILENO : -1, events: Int16(POLLIN), revents: 0)]
            guard poll(&polled, 2, -1) > 0 || errno == EINTR else { return }
            if polled[0].revents != 0 {
                let count = read(fd, &buffer, buffer.count)
                if count <= 0 { return }
                guard writeAll(STDOUT_FILENO, buffer, count) else { return }
            }
            if input, polled[1].revents != 0 {
                let count = read(STDIN_FILENO, &buffer, buffer.count)
                if count <= 0 {
                    input = false
                    shutdown(fd, Int32(SHUT_WR))
                } else if !writeAll(fd, buffer, count) {
                    return
                }
            }
        }
    }

    private func writeAll(_ fd: Int32, _ buffer: [UInt8], _ count: Int) -> Bool {
        var offset = 0
        while offset < count {
            let written = buffer.withUnsafeBytes { write(fd, $0.baseAddress! + offset, count - offset) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }

    private func addressText(_ addressFamily: Int32, _ bytes: [UInt8]) -> String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        _ = bytes.withUnsafeBytes { inet_ntop(addressFamily, $0.baseAddress, &text, socklen_t(text.count)) }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
