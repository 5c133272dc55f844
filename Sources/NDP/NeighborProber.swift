import CNDP
import Glibc
import LinuxSystem
import PvDCore
import PvDWire

/// Asks links whether other nodes own addresses, with libndp: a Neighbor
/// Solicitation for each, then the Neighbor Advertisements that answer. This
/// is pvd's duplicate address detection for domain addresses, which live
/// behind the host (proxied), so the kernel's own DAD never runs on the link
/// for them. The daemon uses ``solicit(_:on:)`` and ``receive()`` from its
/// event loop; ``answered(_:on:waitSeconds:)`` waits on its own.
///
/// libndp sends from the interface's link-local address (the kernel chooses
/// the source of its raw socket), not from `::` as RFC 4862 DAD does; any owner
/// of the address still answers, which is what matters here.
public final class NeighborProber {
    private let socket: NDPSocket
    private let inbox = AnswerInbox()

    public init() throws(SystemError) {
        socket = try NDPSocket(receiving: NDP_MSG_NA, "neighbor advertisement", handler: neighborAdvertisementReceived, context: inbox)
    }

    /// The descriptor to watch for readability (libndp's eventfd).
    public var descriptor: Int32 { socket.descriptor }

    /// Sends a Neighbor Solicitation for each target on `interface`.
    public func solicit(_ targets: [IPv6Address], on interface: String) throws(SystemError) {
        for target in targets {
            try socket.send(NDP_MSG_NS, on: interface, "neighbor solicitation for \(target)") { message in
                var address = in6_addr()
                withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: target.octets) }
                ndp_msg_target_set(message, &address)
            }
        }
    }

    /// Reads what is waiting: the addresses nodes advertised, with the interface heard on.
    public func receive() throws(SystemError) -> [NeighborAnswer] {
        try socket.dispatch()
        defer { inbox.received.removeAll() }
        return inbox.received
    }

    /// The targets that some node on `interface` answered for within `waitSeconds`.
    public func answered(
        _ targets: [IPv6Address], on interface: String,
        waitSeconds: Double = 1
    ) throws(SystemError) -> Set<IPv6Address> {
        guard !targets.isEmpty else { return [] }
        try solicit(targets, on: interface)
        let wanted = Set(targets)
        var answered: Set<IPv6Address> = []
        let deadline = SystemClock.monotonic + waitSeconds
        var descriptor = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        while answered.count < wanted.count {
            let left = deadline - SystemClock.monotonic
            guard left > 0 else { break }
            let milliseconds = Int32(left * 1000) + 1
            let ready = poll(&descriptor, 1, milliseconds)
            if ready < 0, errno == EINTR { continue }
            guard ready >= 0 else { throw systemError("wait for advertisements", interface, errno: errno) }
            if ready > 0 {
                for answer in try receive() where answer.interface == interface && wanted.contains(answer.target) {
                    answered.insert(answer.target)
                }
            }
        }
        return answered
    }
}

/// A Neighbor Advertisement heard: the address it is for, and where.
public struct NeighborAnswer: Equatable, Sendable {
    public var target: IPv6Address
    public var interface: String

    public init(target: IPv6Address, interface: String) {
        self.target = target
        self.interface = interface
    }
}

private final class AnswerInbox {
    var received: [NeighborAnswer] = []
}

/// libndp's callback for each Neighbor Advertisement: the target address is at
/// octets 8 to 23 of the ICMPv6 message (RFC 4861 §4.4). Not generic, as C
/// callbacks must be (docs/design.md, Swift pitfalls).
private func neighborAdvertisementReceived(
    _ ndp: OpaquePointer?, _ message: OpaquePointer?,
    _ context: UnsafeMutableRawPointer?
) -> Int32 {
    guard let message, let context, let payload = ndp_msg_payload(message), ndp_msg_payload_len(message) >= 24,
        let target = IPv6Address(octets: Array(UnsafeRawBufferPointer(start: payload + 8, count: 16))),
        let interface = interfaceName(index: ndp_msg_ifindex(message))
    else { return 0 }
    Unmanaged<AnswerInbox>.fromOpaque(context).takeUnretainedValue().received.append(NeighborAnswer(target: target, interface: interface))
    return 0
}
