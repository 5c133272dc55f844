import CNDP
import Glibc
import LinuxSystem
import PvDCore

/// A libndp socket with one receive handler for one message type on every
/// interface: what ``RouterAdvertisementListener`` and ``NeighborProber`` stand on.
final class NDPSocket {
    typealias Handler = @convention(c) (OpaquePointer?, OpaquePointer?, UnsafeMutableRawPointer?) -> Int32

    private let ndp: OpaquePointer
    private let type: ndp_msg_type
    private let handler: Handler
    /// What the handler is given; kept alive as long as the socket.
    private let context: AnyObject
    private let what: String

    /// Opens the socket and hands every received message of `type` to
    /// `handler` with `context`; `what` names the messages in errors.
    init(receiving type: ndp_msg_type, _ what: String, handler: @escaping Handler, context: AnyObject) throws(SystemError) {
        var handle: OpaquePointer?
        let result = ndp_open(&handle)
        guard result == 0, let handle else { throw systemError("open", "libndp socket", errno: -result) }
        ndp = handle
        self.type = type
        self.handler = handler
        self.context = context
        self.what = what
        let registered = ndp_msgrcv_handler_register(ndp, handler, type, 0, Unmanaged.passUnretained(context).toOpaque())
        guard registered == 0 else {
            ndp_close(ndp)
            throw systemError("listen for \(what)s", "all interfaces", errno: -registered)
        }
    }

    deinit {
        ndp_msgrcv_handler_unregister(ndp, handler, type, 0, Unmanaged.passUnretained(context).toOpaque())
        ndp_close(ndp)
    }

    /// The descriptor to watch for readability (libndp's eventfd).
    var descriptor: Int32 { ndp_get_eventfd(ndp) }

    /// Reads what is waiting, running the handler for each message.
    func dispatch() throws(SystemError) {
        let result = ndp_call_eventfd_handler(ndp)
        guard result == 0 else { throw systemError("receive", what, errno: -result) }
    }

    /// Sends `payload` (a whole ICMPv6 message from its type octet; the
    /// kernel fills the checksum) as a message of `type` on `interface`, to
    /// all nodes (what an RA goes to).
    func send(_ type: ndp_msg_type, payload: [UInt8], on interface: String, _ object: String) throws(SystemError) {
        try send(
            type, on: interface, object,
            fill: { message throws(SystemError) in
                guard payload.count <= ndp_msg_payload_maxlen(message), let buffer = ndp_msg_payload(message) else {
                    throw SystemError(step: "build", object: object, reason: "\(payload.count) octets do not fit one message", code: .errno(EMSGSIZE))
                }
                payload.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: payload.count) }
                ndp_msg_payload_len_set(message, payload.count)
                // To ff02::1: libndp leaves a new RA's destination unspecified,
                // and its ndp_msg_dest_set is for NS and NA only.
                if let destination = ndp_msg_addrto(message) {
                    withUnsafeMutableBytes(of: &destination.pointee) { bytes in
                        for index in bytes.indices { bytes[index] = 0 }
                        bytes[0] = 0xFF
                        bytes[1] = 0x02
                        bytes[15] = 0x01
                    }
                }
            })
    }

    /// Sends a message of `type` on `interface` with the source link-layer
    /// address option; `configure` sets the rest (a target, say).
    func send(_ type: ndp_msg_type, on interface: String, _ object: String, configure: (OpaquePointer) -> Void = { _ in }) throws(SystemError) {
        try send(
            type, on: interface, object,
            fill: { message throws(SystemError) in
                configure(message)
                // Without the source link-layer address option a node does not answer
                // a multicast solicitation from a unicast source.
                ndp_msg_opt_set(message)
            })
    }

    /// Makes a message of `type` for `interface`, has `fill` complete it, and sends it.
    private func send(
        _ type: ndp_msg_type, on interface: String, _ object: String, fill: (OpaquePointer) throws(SystemError) -> Void
    ) throws(SystemError) {
        let index = if_nametoindex(interface)
        guard index != 0 else { throw systemError("find interface", interface, errno: errno) }
        var message: OpaquePointer?
        let created = ndp_msg_new(&message, type)
        guard created == 0, let message else { throw systemError("build", object, errno: -created) }
        defer { ndp_msg_destroy(message) }
        ndp_msg_ifindex_set(message, index)
        try fill(message)
        let sent = ndp_msg_send(ndp, message)
        guard sent == 0 else { throw systemError("send", "\(object) on \(interface)", errno: -sent) }
    }
}

/// The name of the interface with kernel index `index`, if there is one.
func interfaceName(index: UInt32) -> String? {
    var name = [CChar](repeating: 0, count: Int(IF_NAMESIZE))
    guard if_indextoname(index, &name) != nil else { return nil }
    return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
