import CNetlinkRoute
import Glibc
import PvDCore

/// Tells when links of the calling thread's namespace become able to talk to
/// their routers: up, running, and holding an IPv6 link-local address that has
/// passed duplicate address detection — the moment the kernel itself sends its
/// Router Solicitation (a solicitation sent at carrier-up would leave from the
/// unspecified address, or not at all). Also tells when IPv4 addresses or
/// routes changed (an uplink's own IPv4 decides whether domains get any), and
/// when something was taken away — a link deleted or set down, an address or
/// route deleted, a forwarding or proxy setting changed (netconf) — which
/// may be what pvd made (another program, or a person with `ip`).
/// Watch ``descriptor`` and call ``receive()`` when it is readable.
public final class LinkMonitor {
    private let socket: OpaquePointer
    private let state = LinkStates()

    public init() throws(SystemError) {
        guard let socket = nl_socket_alloc() else {
            throw SystemError(step: "open netlink socket", object: "link monitor", reason: "out of memory")
        }
        self.socket = socket
        nl_socket_disable_seq_check(socket)
        nl_socket_modify_cb(socket, NL_CB_VALID, NL_CB_CUSTOM, messageReceived, Unmanaged.passUnretained(state).toOpaque())
        for (step, result) in [
            ("connect netlink socket", nl_connect(socket, NETLINK_ROUTE)),
            ("join link notifications", nl_socket_add_membership(socket, Int32(RTNLGRP_LINK.rawValue))),
            ("join IPv6 address notifications", nl_socket_add_membership(socket, Int32(RTNLGRP_IPV6_IFADDR.rawValue))),
            ("join IPv4 address notifications", nl_socket_add_membership(socket, Int32(RTNLGRP_IPV4_IFADDR.rawValue))),
            ("join IPv4 route notifications", nl_socket_add_membership(socket, Int32(RTNLGRP_IPV4_ROUTE.rawValue))),
            ("join IPv6 route notifications", nl_socket_add_membership(socket, Int32(RTNLGRP_IPV6_ROUTE.rawValue))),
            ("join IPv6 netconf notifications", nl_socket_add_membership(socket, Int32(RTNLGRP_IPV6_NETCONF.rawValue))),
            ("make netlink socket non-blocking", nl_socket_set_nonblocking(socket)),
        ] where result < 0 {
            nl_socket_free(socket)
            throw NetlinkSocket.error(result, step, "link monitor")
        }
    }

    deinit { nl_socket_free(socket) }

    public var descriptor: Int32 { nl_socket_get_fd(socket) }

    /// What the notifications read by one ``receive()`` said.
    public struct News {
        /// The links that became ready to solicit routers.
        public var ready: [String]
        /// Whether any IPv4 address or route changed.
        public var ipv4Changed: Bool
        /// Whether anything was deleted or set down, or a setting changed.
        public var somethingTaken: Bool

        public init(ready: [String] = [], ipv4Changed: Bool = false, somethingTaken: Bool = false) {
            self.ready = ready
            self.ipv4Changed = ipv4Changed
            self.somethingTaken = somethingTaken
        }
    }

    /// Reads the waiting notifications.
    public func receive() -> News {
        while nl_recvmsgs_default(socket) >= 0 {}
        defer {
            state.becameReady.removeAll()
            state.ipv4Changed = false
            state.somethingTaken = false
        }
        return News(ready: state.becameReady.compactMap(LinkMonitor.name(ofIndex:)), ipv4Changed: state.ipv4Changed, somethingTaken: state.somethingTaken)
    }

    /// The names of the links of the calling thread's namespace now.
    public static func interfaceNames() -> [String] {
        guard let list = if_nameindex() else { return [] }
        defer { if_freenameindex(list) }
        var names: [String] = []
        var entry = list
        while entry.pointee.if_index != 0, let name = entry.pointee.if_name {
            names.append(String(cString: name))
            entry += 1
        }
        return names
    }

    private static func name(ofIndex index: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(IF_NAMESIZE) + 1)
        guard if_indextoname(UInt32(index), &buffer) != nil else { return nil }
        return String(cBuffer: buffer)
    }
}

/// Per link index, the link-local addresses usable now; and the links whose
/// set went from empty to non-empty since the last ``LinkMonitor/receive()``.
private final class LinkStates {
    var usable: [Int32: Set<String>] = [:]
    var becameReady: [Int32] = []
    var ipv4Changed = false
    var somethingTaken = false

    func link(_ index: Int32, running: Bool) {
        if !running { usable[index] = nil }
    }

    func address(_ address: String, on index: Int32, usable isUsable: Bool) {
        let before = usable[index, default: []]
        var after = before
        if isUsable { after.insert(address) } else { after.remove(address) }
        usable[index] = after.isEmpty ? nil : after
        if before.isEmpty, !after.isEmpty, !becameReady.contains(index) { becameReady.append(index) }
    }
}

private func messageReceived(_ message: OpaquePointer?, _ context: UnsafeMutableRawPointer?) -> Int32 {
    guard let message, let context else { return Int32(NL_OK.rawValue) }
    switch Int32(nlmsg_hdr(message).pointee.nlmsg_type) {
    case Int32(RTM_DELLINK), Int32(RTM_DELADDR), Int32(RTM_DELROUTE), Int32(RTM_NEWNETCONF):
        Unmanaged<LinkStates>.fromOpaque(context).takeUnretainedValue().somethingTaken = true
    default: break
    }
    nl_msg_parse(
        message,
        { object, context in
            guard let object, let context else { return }
            let states = Unmanaged<LinkStates>.fromOpaque(context).takeUnretainedValue()
            let type = Int32(nl_object_get_msgtype(object))
            switch type {
            case Int32(RTM_NEWLINK), Int32(RTM_DELLINK):
                let flags = rtnl_link_get_flags(object)
                let running = type == Int32(RTM_NEWLINK) && flags & UInt32(IFF_UP) != 0 && flags & UInt32(IFF_RUNNING) != 0
                states.link(rtnl_link_get_ifindex(object), running: running)
                if flags & UInt32(IFF_UP) == 0 { states.somethingTaken = true }
            case Int32(RTM_NEWROUTE), Int32(RTM_DELROUTE):
                if rtnl_route_get_family(object) == UInt8(AF_INET) { states.ipv4Changed = true }
            case Int32(RTM_NEWADDR), Int32(RTM_DELADDR):
                if rtnl_addr_get_family(object) == AF_INET { states.ipv4Changed = true }
                guard rtnl_addr_get_family(object) == AF_INET6, rtnl_addr_get_scope(object) == Int32(RT_SCOPE_LINK.rawValue),
                    let local = rtnl_addr_get_local(object)
                else { return }
                var address = [CChar](repeating: 0, count: 64)
                nl_addr2str(local, &address, address.count)
                let flags = UInt32(rtnl_addr_get_flags(object))
                let settled = flags & UInt32(IFA_F_TENTATIVE | IFA_F_DADFAILED) == 0
                states.address(String(cBuffer: address), on: rtnl_addr_get_ifindex(object), usable: type == Int32(RTM_NEWADDR) && settled)
            default:
                return
            }
        }, context)
    return Int32(NL_OK.rawValue)
}
