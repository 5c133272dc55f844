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

/// Asks a link whether other nodes own addresses, with libndp: a Neighbor
/// Solicitation for each, then the Neighbor Advertisements that answer within
/// the wait. This is pvd's duplicate address detection for domain addresses,
/// which live behind the host (proxied), so the kernel's own DAD never runs
/// on the link for them.
///
/// libndp sends from the interface's link-local address (the kernel chooses
/// the source of its raw socket), not from `::` as RFC 4862 DAD does; any owner
/// of the address still answers, which is what matters here.
public final class NeighborProber {
    private let ndp: OpaquePointer

    public init() throws(NDPError) {
        var handle: OpaquePointer?
        let result = ndp_open(&handle)
        guard result == 0, let handle else { throw NDPError(step: "open", object: "libndp socket", code: -result) }
        ndp = handle
    }

    deinit { ndp_close(ndp) }

    /// The targets that some node on `interface` answered for within `wait`.
    public func answered(_ targets: [IPv6Address], on interface: String,
                         wait: Duration = .seconds(1)) throws(NDPError) -> Set<IPv6Address> {
        guard !targets.isEmpty else { return [] }
        let index = if_nametoindex(interface)
        guard index != 0 else { throw NDPError(step: "find interface", object: interface, code: errno) }
        let probe = Probe(Set(targets))
        let context = Unmanaged.passRetained(probe)
        defer { context.release() }
        let registered = ndp_msgrcv_handler_register(ndp, neighborAdvertisementReceived, NDP_MSG_NA, index, context.toOpaque())
        guard registered == 0 else { throw NDPError(step: "listen for advertisements", object: interface, code: -registered) }
        defer { ndp_msgrcv_handler_unregister(ndp, neighborAdvertisementReceived, NDP_MSG_NA, index, context.toOpaque()) }

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

        let clock = ContinuousClock()
        let deadline = clock.now + wait
        var descriptor = pollfd(fd: ndp_get_eventfd(ndp), events: Int16(POLLIN), revents: 0)
        while probe.answered.count < probe.targets.count {
            let left = deadline - clock.now
            guard left > .zero else { break }
            let milliseconds = Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
            let ready = poll(&descriptor, 1, milliseconds)
            if ready < 0, errno == EINTR { continue }
            guard ready >= 0 else { throw NDPError(step: "wait for advertisements", object: interface, code: errno) }
            if ready > 0 {
                let handled = ndp_call_eventfd_handler(ndp)
                guard handled == 0 else { throw NDPError(step: "read advertisement", object: interface, code: -handled) }
            }
        }
        return probe.answered
    }
}

/// The state of one probe, reached from the C callback.
private final class Probe {
    let targets: Set<IPv6Address>
    var answered: Set<IPv6Address> = []
    init(_ targets: Set<IPv6Address>) { self.targets = targets }
}

/// libndp's callback for each Neighbor Advertisement: the target address is at
/// octets 8 to 23 of the ICMPv6 message (RFC 4861 §4.4). Not generic, as C
/// callbacks must be (DESIGN.md, Swift pitfalls).
private func neighborAdvertisementReceived(_ ndp: OpaquePointer?, _ message: OpaquePointer?,
                                           _ context: UnsafeMutableRawPointer?) -> Int32 {
    guard let message, let context, let payload = ndp_msg_payload(message), ndp_msg_payload_len(message) >= 24 else { return 0 }
    let probe = Unmanaged<Probe>.fromOpaque(context).takeUnretainedValue()
    let octets = Array(UnsafeRawBufferPointer(start: payload + 8, count: 16))
    if let target = IPv6Address(octets: octets), probe.targets.contains(target) { probe.answered.insert(target) }
    return 0
}
