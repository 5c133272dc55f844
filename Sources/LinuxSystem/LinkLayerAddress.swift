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
