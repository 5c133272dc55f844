import CNetlinkRoute
import PvDWire

/// A link as the kernel reports it.
struct KernelLink: Equatable {
    var index: Int32
    var name: String
    var isUp: Bool
    var mtu: UInt32
    /// IFLA_LINK: for a veth, the peer's index (in the peer's namespace).
    var peerIndex: Int32
    /// The kernel's byte counters.
    var bytesIn: UInt64 = 0
    var bytesOut: UInt64 = 0
    /// IFF_RUNNING: the kernel has taken the link's carrier in (its
    /// linkwatch work ran): only then does it send what is queued on it.
    var isRunning = false
    /// The link-layer (Ethernet) address; empty for a link without one.
    var linkLayerAddress: [UInt8] = []
}

/// An IPv6 address on a link.
struct KernelAddress: Hashable {
    var interfaceIndex: Int32
    var address: IPv6Address
    var prefixLength: Int
}

/// An IPv4 address on a link (the only IPv4 pvd sets: a domain's NAT link).
struct KernelIPv4Address: Hashable {
    var interfaceIndex: Int32
    var octets: [UInt8]
    var prefixLength: Int

    var text: String { octets.map(String.init).joined(separator: ".") + "/\(prefixLength)" }
}

/// An IPv6 unicast route: through gateways (several: multipath) or directly
/// out of a link.
struct KernelRoute: Hashable {
    var destination: IPv6Prefix
    var table: UInt32
    var interfaceIndex: Int32
    var gateways: [IPv6Address]
    /// The source the route is for (`ip route add … from SOURCE`); nil for any.
    var source: IPv6Prefix? = nil
    /// RTPROT_*: pvd's routes are static; the kernel's own (for addresses,
    /// fe80::/64) are `kernel` and never pvd's to change.
    var origin: UInt8 = UInt8(RTPROT_STATIC)
}

/// An IPv6 policy rule pvd uses: optional source and input interface, then a
/// table lookup or a silent drop.
struct KernelRule: Hashable {
    enum Action: Hashable {
        case lookup(UInt32)
        case blackhole
    }
    var priority: UInt32
    var source: IPv6Prefix?
    var inputInterface: String?
    var action: Action
}
