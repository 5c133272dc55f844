import CNDP
import Glibc
import PvDWire

/// A Router Advertisement as received: the ICMPv6 message, its source, and
/// the interface it came in on.
public struct ReceivedRouterAdvertisement: Sendable {
    public var message: [UInt8]
    public var source: IPv6Address
    public var interface: String
}

/// Receives RAs on every interface through libndp (which has already checked
/// hop limit 255 and a link-local source) and sends Router Solicitations.
/// Call ``receive()`` when ``descriptor`` is readable.
public final class RouterAdvertisementListener {
    private let ndp: OpaquePointer
    private let inbox = Inbox()

    public init() throws(NDPError) {
        var handle: OpaquePointer?
        let result = ndp_open(&handle)
        guard result == 0, let handle else { throw NDPError(step: "open", object: "libndp socket", code: -result) }
        ndp = handle
        let registered = ndp_msgrcv_handler_register(ndp, routerAdvertisementReceived, NDP_MSG_RA, 0,
                                                     Unmanaged.passUnretained(inbox).toOpaque())
        guard registered == 0 else {
            ndp_close(ndp)
            throw NDPError(step: "listen for router advertisements", object: "all interfaces", code: -registered)
        }
    }

    deinit {
        ndp_msgrcv_handler_unregister(ndp, routerAdvertisementReceived, NDP_MSG_RA, 0, Unmanaged.passUnretained(inbox).toOpaque())
        ndp_close(ndp)
    }

    /// The descriptor to watch for readability (libndp's eventfd).
    public var descriptor: Int32 { ndp_get_eventfd(ndp) }

    /// Reads what is waiting and returns the RAs among it.
    public func receive() throws(NDPError) -> [ReceivedRouterAdvertisement] {
        let result = ndp_call_eventfd_handler(ndp)
        guard result == 0 else { throw NDPError(step: "receive", object: "router advertisement", code: -result) }
        defer { inbox.received.removeAll() }
        return inbox.received
    }

    /// Sends a Router Solicitation on `interface`, so routers answer at once.
    public func solicit(on interface: String) throws(NDPError) {
        let index = if_nametoindex(interface)
        guard index != 0 else { throw NDPError(step: "find interface", object: interface, code: errno) }
        var message: OpaquePointer?
        let created = ndp_msg_new(&message, NDP_MSG_RS)
        guard created == 0, let message else { throw NDPError(step: "build solicitation", object: interface, code: -created) }
        defer { ndp_msg_destroy(message) }
        ndp_msg_ifindex_set(message, index)
        ndp_msg_opt_set(message)
        let sent = ndp_msg_send(ndp, message)
        guard sent == 0 else { throw NDPError(step: "send router solicitation", object: interface, code: -sent) }
    }
}

private final class Inbox {
    var received: [ReceivedRouterAdvertisement] = []
}

/// libndp's callback for each RA; for a received message, `addrto` is its source.
private func routerAdvertisementReceived(_ ndp: OpaquePointer?, _ message: OpaquePointer?,
                                         _ context: UnsafeMutableRawPointer?) -> Int32 {
    guard let message, let context, let payload = ndp_msg_payload(message), let source = ndp_msg_addrto(message) else { return 0 }
    let inbox = Unmanaged<Inbox>.fromOpaque(context).takeUnretainedValue()
    let length = ndp_msg_payload_len(message)
    let bytes = Array(UnsafeRawBufferPointer(start: payload, count: length))
    let sourceOctets = withUnsafeBytes(of: source.pointee) { Array($0) }
    guard let address = IPv6Address(octets: sourceOctets), let interface = interfaceName(index: ndp_msg_ifindex(message)) else { return 0 }
    inbox.received.append(ReceivedRouterAdvertisement(message: bytes, source: address, interface: interface))
    return 0
}
