import CNetlinkRoute
import Glibc
import PvDCore

/// Tells when links of the calling thread's namespace come up (administratively
/// up and running), from the rtnetlink link notifications. Watch ``descriptor``
/// and call ``receive()`` when it is readable.
public final class LinkMonitor {
    private let socket: OpaquePointer
    private let state = LinkStates()

    public init() throws(HostNetError) {
        guard let socket = nl_socket_alloc() else {
            throw HostNetError(step: "open netlink socket", object: "link monitor", reason: "out of memory")
        }
        self.socket = socket
        nl_socket_disable_seq_check(socket)
        nl_socket_modify_cb(socket, NL_CB_VALID, NL_CB_CUSTOM, linkMessageReceived, Unmanaged.passUnretained(state).toOpaque())
        for (step, result) in [("connect netlink socket", nl_connect(socket, NETLINK_ROUTE)),
                               ("join link notifications", nl_socket_add_membership(socket, Int32(RTNLGRP_LINK.rawValue))),
                               ("make netlink socket non-blocking", nl_socket_set_nonblocking(socket))] where result < 0 {
            nl_socket_free(socket)
            throw NetlinkSocket.error(result, step, "link monitor")
        }
    }

    deinit { nl_socket_free(socket) }

    public var descriptor: Int32 { nl_socket_get_fd(socket) }

    /// Reads the waiting notifications; returns the links that came up since.
    public func receive() -> [String] {
        while nl_recvmsgs_default(socket) >= 0 {}
        defer { state.cameUp.removeAll() }
        return state.cameUp
    }
}

/// Which links were last seen up and running, and which came up lately.
private final class LinkStates {
    var running: Set<String> = []
    var cameUp: [String] = []
}

private func linkMessageReceived(_ message: OpaquePointer?, _ context: UnsafeMutableRawPointer?) -> Int32 {
    guard let message, let context else { return Int32(NL_OK.rawValue) }
    nl_msg_parse(message, { object, context in
        guard let object, let context else { return }
        let states = Unmanaged<LinkStates>.fromOpaque(context).takeUnretainedValue()
        let name = String(cString: rtnl_link_get_name(object))
        let flags = rtnl_link_get_flags(object)
        let running = flags & UInt32(IFF_UP) != 0 && flags & UInt32(IFF_RUNNING) != 0
        if running, !states.running.contains(name) { states.cameUp.append(name) }
        if running { states.running.insert(name) } else { states.running.remove(name) }
    }, context)
    return Int32(NL_OK.rawValue)
}
