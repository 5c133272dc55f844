import Glibc
import PvDWire

/// Whether `address` is assigned to an interface of the calling thread's
/// network namespace: bind() succeeds only for a local address. One syscall
/// instead of a dump of every address, so the check costs the same with 500
/// domains as with one.
func isLocalAddress(_ address: IPv6Address) -> Bool {
    let fd = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var socketAddress = sockaddr_in6()
    socketAddress.sin6_family = sa_family_t(AF_INET6)
    withUnsafeMutableBytes(of: &socketAddress.sin6_addr) { $0.copyBytes(from: address.octets) }
    let result = withUnsafePointer(to: &socketAddress) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
    }
    return result == 0
}
