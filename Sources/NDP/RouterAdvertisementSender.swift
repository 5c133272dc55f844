import CNDP
import Glibc
import LinuxSystem
import PvDCore

/// Sends Router Advertisements on one interface through libndp, and hears
/// the Router Solicitations they answer (`pvd announce`). Call
/// ``receiveSolicitations()`` when ``descriptor`` is readable.
public final class RouterAdvertisementSender {
    private let socket: NDPSocket
    private let interface: String
    private let inbox = SolicitationInbox()

    public init(interface: String) throws(SystemError) {
        guard if_nametoindex(interface) != 0 else { throw systemError("find interface", interface, errno: errno) }
        self.interface = interface
        socket = try NDPSocket(receiving: NDP_MSG_RS, "router solicitation", handler: solicitationReceived, context: inbox)
    }

    /// The descriptor to watch for readability (libndp's eventfd).
    public var descriptor: Int32 { socket.descriptor }

    /// Sends one RA (`message` from its ICMPv6 type octet on) to all nodes on the link.
    public func send(_ message: [UInt8]) throws(SystemError) {
        try socket.send(NDP_MSG_RA, payload: message, on: interface, "router advertisement")
    }

    /// How many Router Solicitations arrived on this interface since the last call.
    public func receiveSolicitations() throws(SystemError) -> Int {
        try socket.dispatch()
        defer { inbox.interfaces.removeAll() }
        let index = if_nametoindex(interface)
        return inbox.interfaces.filter { $0 == index }.count
    }
}

private final class SolicitationInbox {
    var interfaces: [UInt32] = []
}

/// libndp's callback for each Router Solicitation: notes its interface.
private func solicitationReceived(_ ndp: OpaquePointer?, _ message: OpaquePointer?, _ context: UnsafeMutableRawPointer?) -> Int32 {
    guard let message, let context else { return 0 }
    Unmanaged<SolicitationInbox>.fromOpaque(context).takeUnretainedValue().interfaces.append(ndp_msg_ifindex(message))
    return 0
}
