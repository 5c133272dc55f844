import Glibc
import PvDCore

/// A TCP socket someone else made (pvdd's OpenSocket) connected and joined
/// to stdin and stdout: what `pvd connect` does with it. Addresses are
/// (family, bytes) as org.pvd1's ResolveName gives them.
public enum StreamConnection {
    /// `text` as an address of `family` (AF_UNSPEC: either); nil when it is a name.
    public static func numericAddress(_ text: String, family: Int32) -> (family: Int32, bytes: [UInt8])? {
        var v6 = in6_addr()
        var v4 = in_addr()
        if family != AF_INET, inet_pton(AF_INET6, text, &v6) == 1 { return (AF_INET6, withUnsafeBytes(of: v6) { Array($0) }) }
        if family != AF_INET6, inet_pton(AF_INET, text, &v4) == 1 { return (AF_INET, withUnsafeBytes(of: v4) { Array($0) }) }
        return nil
    }

    /// The address as text (`2001:db8::1`, `192.0.2.1`).
    public static func text(family: Int32, bytes: [UInt8]) -> String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        _ = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Connects `fd` to the address at `port` within `timeout` milliseconds;
    /// nil, or why not. The socket is left blocking.
    public static func connect(_ fd: Int32, family: Int32, address bytes: [UInt8], port: UInt16, timeout: Int32) -> String? {
        // Where the address goes in sockaddr_in6 or sockaddr_in, after the family and the port.
        let offset: Int
        let length: Int
        switch (family, bytes.count) {
        case (AF_INET6, 16): (offset, length) = (8, MemoryLayout<sockaddr_in6>.size)
        case (AF_INET, 4): (offset, length) = (4, MemoryLayout<sockaddr_in>.size)
        default: return "an address of family \(family) and \(bytes.count) bytes"
        }
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { raw in
            raw.storeBytes(of: sa_family_t(family), toByteOffset: 0, as: sa_family_t.self)
            raw.storeBytes(of: port.bigEndian, toByteOffset: 2, as: UInt16.self)
            for index in bytes.indices { raw[offset + index] = bytes[index] }
        }
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(fd, F_SETFL, flags) }
        let started = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(length)) } }
        if started < 0 && errno != EINPROGRESS { return systemError("connect", "", errno: errno).reason }
        var polled = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard poll(&polled, 1, timeout) == 1 else { return "no answer within \(timeout / 1000) s" }
        var problem: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &problem, &size)
        return problem == 0 ? nil : systemError("connect", "", errno: problem).reason
    }

    /// Copies stdin to `fd` and `fd` to stdout until the other side closes;
    /// when stdin ends, the sending side is shut.
    public static func pipe(_ fd: Int32) {
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

    private static func writeAll(_ fd: Int32, _ buffer: [UInt8], _ count: Int) -> Bool {
        var offset = 0
        while offset < count {
            let written = buffer.withUnsafeBytes { write(fd, $0.baseAddress! + offset, count - offset) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }
}
