import Glibc
import PvDCore

/// A non-blocking UDP socket made inside a named network namespace, with the
/// peers it talks to: what pvdd asks a domain's DNS servers with. IPv6,
/// IPv4 peers reached as IPv4-mapped addresses; a datagram from anyone but
/// a peer (address and port) is told apart.
public final class DatagramSocket {
    private let socket: FileDescriptor
    private let peers: [sockaddr_in6]

    /// The peers it could use, in order, among `addresses` (IPv6, with an
    /// optional `%interface` of the namespace, or IPv4); others are left out.
    public var peerCount: Int { peers.count }

    /// The descriptor, for an event loop to watch.
    public var descriptor: Int32 { socket.rawValue }

    public init(inNamespace name: String, peers addresses: [String], port: UInt16) throws(SystemError) {
        let made = try Namespaces.run(inNamed: name) { () throws(SystemError) -> (Int32, [sockaddr_in6]) in
            let fd = Glibc.socket(AF_INET6, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw systemError("make a UDP socket", "namespace \(name)") }
            var no: Int32 = 0
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &no, socklen_t(MemoryLayout<Int32>.size))
            // Here, interface names are the namespace's.
            return (fd, addresses.compactMap { DatagramSocket.address($0, port: port) })
        }
        socket = FileDescriptor(taking: made.0)
        peers = made.1
    }

    /// Sends `bytes` to peer `index`; false when the kernel refused (no route, say).
    @discardableResult
    public func send(_ bytes: [UInt8], toPeer index: Int) -> Bool {
        var destination = peers[index]
        return withUnsafePointer(to: &destination) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(socket.rawValue, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
            }
        } == bytes.count
    }

    /// The next datagram waiting (at most `limit` bytes) and the peer it came
    /// from (nil: from someone else); nil when none waits.
    public func receive(limit: Int = 4096) -> (bytes: [UInt8], peer: Int?)? {
        var buffer = [UInt8](repeating: 0, count: limit)
        var source = sockaddr_in6()
        var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        let count = buffer.withUnsafeMutableBytes { bytes in
            withUnsafeMutablePointer(to: &source) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(socket.rawValue, bytes.baseAddress, bytes.count, 0, $0, &length) }
            }
        }
        guard count >= 0 else { return nil }
        let peer = peers.firstIndex { peer in
            var (a, b) = (peer, source)
            return a.sin6_port == b.sin6_port && memcmp(&a.sin6_addr, &b.sin6_addr, 16) == 0
        }
        return (Array(buffer.prefix(count)), peer)
    }

    /// `text` at `port` as an IPv6 socket address; nil when it is not an address.
    private static func address(_ text: String, port: UInt16) -> sockaddr_in6? {
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = port.bigEndian
        let parts = text.split(separator: "%", maxSplits: 1)
        guard let host = parts.first else { return nil }
        if inet_pton(AF_INET6, String(host), &address.sin6_addr) == 1 {
            if parts.count == 2 {
                address.sin6_scope_id = if_nametoindex(String(parts[1]))
                guard address.sin6_scope_id != 0 else { return nil }
            }
            return address
        }
        var v4 = in_addr()
        guard parts.count == 1, inet_pton(AF_INET, String(host), &v4) == 1 else { return nil }
        withUnsafeMutableBytes(of: &address.sin6_addr) { bytes in
            bytes[10] = 0xFF
            bytes[11] = 0xFF
            withUnsafeBytes(of: v4) { for index in 0..<4 { bytes[12 + index] = $0[index] } }
        }
        return address
    }
}
