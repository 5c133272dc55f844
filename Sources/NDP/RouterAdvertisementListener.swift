import CNDP
import Glibc
import PvDCore
import PvDWire

/// A Router Advertisement as received: the ICMPv6 message, its source, and
/// the interface it came in on.
public struct ReceivedRouterAdvertisement: Sendable {
    public var message: [UInt8]
    public var source: IPv6Address
    public var interface: String

    public init(message: [UInt8], source: IPv6Address, interface: String) {
        self.message = message
        self.source = source
        self.interface = interface
    }
}

/// Receives RAs on every interface through libndp (which has already checked
/// hop limit 255 and a link-local source) and sends Router Solicitations.
/// Call ``receive()`` when ``descriptor`` is readable.
public final class RouterAdvertisementListener {
    private let socket: NDPSocket
    private let inbox = Inbox()

    public init() throws(SystemError) {
        socket = try NDPSocket(receiving: NDP_MSG_RA, "router advertisement", handler: routerAdvertisementReceived, context: inbox)
    }

    /// The descriptor to watch for readability (libndp's eventfd).
    public var descriptor: Int32 { socket.descriptor }

    /// Reads what is waiting and returns the RAs among it.
    public func receive() throws(SystemError) -> [ReceivedRouterAdvertisement] {
        try socket.dispatch()
        defer { inbox.received.removeAll() }
        return inbox.received
    }

    /// Sends a Router Solicitation on `interface`, so routers answer at once.
    public func solicit(on interface: String) throws(SystemError) {
        try socket.send(NDP_MSG_RS, on: interface, "router solicitation")
    }
}

private final class Inbox {
    var received: [ReceivedRouterAdvertisement] = []
}

/// libndp's callback for each RA; for a received message, `addrto` is its source.
private func routerAdvertisementReceived(
    _ ndp: OpaquePointer?, _ message: OpaquePointer?,
    _ context: UnsafeMutableRawPointer?
) -> Int32 {
    guard let message, let context, let payload = ndp_msg_payload(message), let source = ndp_msg_addrto(message) else { return 0 }
    let inbox = Unmanaged<Inbox>.fromOpaque(context).takeUnretainedValue()
    let length = ndp_msg_payload_len(message)
    let bytes = Array(UnsafeRawBufferPointer(start: payload, count: length))
    let sourceOctets = withUnsafeBytes(of: source.pointee) { Array($0) }
    guard let address = IPv6Address(octets: sourceOctets), let interface = interfaceName(index: ndp_msg_ifindex(message)) else { return 0 }
    inbox.received.append(ReceivedRouterAdvertisement(message: bytes, source: address, interface: interface))
    return 0
}
