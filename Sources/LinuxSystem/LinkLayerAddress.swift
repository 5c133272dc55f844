import Glibc

/// An interface's link-layer (Ethernet) address in the calling thread's
/// network namespace (getifaddrs asks netlink; /sys/class/net would show the
/// namespace /sys was mounted in). Nil when the interface has none.
public func linkLayerAddress(of interface: String) -> [UInt8]? {
    var list: UnsafeMutablePointer<ifaddrs>?
    guard getifaddrs(&list) == 0 else { return nil }
    defer { freeifaddrs(list) }
    var entry = list
    while let current = entry {
        defer { entry = current.pointee.ifa_next }
        guard let address = current.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_PACKET),
            String(cString: current.pointee.ifa_name) == interface
        else { continue }
        // struct sockaddr_ll (netpacket/packet.h, which Glibc's module lacks):
        // family 2, protocol 2, ifindex 4, hatype 2, pkttype 1, halen 1, addr 8.
        let bytes = Array(UnsafeRawBufferPointer(start: address, count: 20))
        return bytes[11] == 6 ? Array(bytes[12..<18]) : nil
    }
    return nil
}

/// An interface's MTU in the calling thread's network namespace (SIOCGIFMTU).
public func interfaceMTU(of interface: String) -> Int? {
    let fd = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    // struct ifreq: the name (IFNAMSIZ, 16), then a union whose int is the MTU.
    var request = [UInt8](repeating: 0, count: 40)
    let name = Array(interface.utf8.prefix(15))
    request.replaceSubrange(0..<name.count, with: name)
    let result = request.withUnsafeMutableBytes { ioctl(fd, UInt(SIOCGIFMTU), $0.baseAddress!) }
    guard result == 0 else { return nil }
    return Int(request[16..<20].withUnsafeBytes { $0.loadUnaligned(as: Int32.self) })
}
