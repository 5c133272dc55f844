import CNDP
import Glibc
import PvDWire

/// A failed libndp call: what was being done, on which object, and the errno.
public struct NDPError: Error, Equatable, Sendable, CustomStringConvertible {
    public var step: String
    public var object: String
    public var code: Int32

    public var description: String { "\(step) \(object): \(String(cString: strerror(code)))" }
}

/// Asks links whether other nodes own addresses, with libndp: a Neighbor
/// Solicitation for each, then the Neighbor Advertisements that answer. This
/// is pvd's duplicate address detection for domain addresses, which live
/// behind the host (proxied), so the kernel's own DAD never runs on the link
/// for them. The daemon uses ``solicit(_:on:)`` and ``receive()`` from its
/// event loop; ``answered(_:on:wait:)`` waits on its own.
///
/// libndp sends from the interface's link-local address (the kernel chooses
/// the source of its raw socket), not from `::` as RFC 4862 DAD does; any owner
/// of the address still answers, which is what matters here.
public final class NeighborProber {
    private let ndp: OpaquePointer
    private let inbox = AnswerInbox()

    public init() throws(NDPError) {
        var handle: OpaquePointer?
        let result = ndp_open(&handle)
        guard result == 0, let handle else { throw NDPError(step: "open", object: "libndp socket", code: -result) }
        ndp = handle
        let registered = ndp_msgrcv_handler_register(ndp, neighborAdvertisementReceived, NDP_MSG_NA, 0,
                                                     Unmanaged.passUnretained(inbox).toOpaque())
        guard registered == 0 else {
            ndp_close(ndp)
            throw NDPError(step: "listen for neighbor advertisements", object: "all interfaces", code: -registered)
        }
    }

    deinit {
        ndp_msgrcv_handler_unregister(ndp, neighborAdvertisementReceived, NDP_MSG_NA, 0, Unmanaged.passUnretained(inbox).toOpaque())
        ndp_close(ndp)
    }

    /// The descriptor to watch for readability (libndp's eventfd).
    public var descriptor: Int32 { ndp_get_eventfd(ndp) }

    /// Sends a Neighbor Solicitation for each target on `interface`.
    public func solicit(_ targets: [IPv6Address], on interface: String) throws(NDPError) {
        let index = if_nametoindex(interface)
        guard index != 0 else { throw NDPError(step: "find interface", object: interface, code: errno) }
        for target in targets {
            var message: OpaquePointer?
            let created = ndp_msg_new(&message, NDP_MSG_NS)
            guard created == 0, let message else { throw NDPError(step: "build solicitation", object: "\(target)", code: -created) }
            defer { ndp_msg_destroy(message) }
            ndp_msg_ifindex_set(message, index)
            var address = in6_addr()
            withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: target.octets) }
            ndp_msg_target_set(message, &address)
            // The source link-layer address option: without it a node does not
            // answer a multicast solicitation from a unicast source.
            ndp_msg_opt_set(message)
            let sent = ndp_msg_send(ndp, message)
            guard sent == 0 else { throw NDPError(step: "send solicitation", object: "\(target) on \(interface)", code: -sent) }
        }
    }

    /// Reads what is waiting: the addresses nodes advertised, with the interface heard on.
    public func receive() throws(NDPError) -> [NeighborAnswer] {
        let result = ndp_call_eventfd_handler(ndp)
        guard result == 0 else { throw NDPError(step: "receive", object: "neighbor advertisement", code: -result) }
        defer { inbox.received.removeAll() }
        return inbox.received
    }

    /// The targets that some node on `interface` answered for within `wait`.
    public func answered(_ targets: [IPv6Address], on interface: String,
                         wait: Duration = .seconds(1)) throws(NDPError) -> Set<IPv6Address> {
        guard !targets.isEmpty else { return [] }
        try solicit(targets, on: interface)
        let wanted = Set(targets)
        var answered: Set<IPv6Address> = []
        let clock = ContinuousClock()
        let deadline = clock.now + wait
        var descriptor = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        while answered.count < wanted.count {
            let left = deadline - clock.now
            guard left > .zero else { break }
            let milliseconds = Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
            let ready = poll(&descriptor, 1, milliseconds)
            if ready < 0, errno == EINTR { continue }
            guard ready >= 0 else { throw NDPError(step: "wait for advertisements", object: interface, code: errno) }
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
}

private final class AnswerInbox {
    var received: [NeighborAnswer] = []
}

/// libndp's callback for each Neighbor Advertisement: the target address is at
/// octets 8 to 23 of the ICMPv6 message (RFC 4861 §4.4). Not generic, as C
/// callbacks must be (DESIGN.md, Swift pitfalls).
private func neighborAdvertisementReceived(_ ndp: OpaquePointer?, _ message: OpaquePointer?,
                                           _ context: UnsafeMutableRawPointer?) -> Int32 {
    guard let message, let context, let payload = ndp_msg_payload(message), ndp_msg_payload_len(message) >= 24,
          let target = IPv6Address(octets: Array(UnsafeRawBufferPointer(start: payload + 8, count: 16))),
          let interface = interfaceName(index: ndp_msg_ifindex(message)) else { return 0 }
    Unmanaged<AnswerInbox>.fromOpaque(context).takeUnretainedValue().received.append(NeighborAnswer(target: target, interface: interface))
    return 0
}

/// The name of the interface with kernel index `index`, if there is one.
func interfaceName(index: UInt32) -> String? {
    var name = [CChar](repeating: 0, count: Int(IF_NAMESIZE))
    guard if_indextoname(index, &name) != nil else { return nil }
    return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
