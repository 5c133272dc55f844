import CNetlinkRoute

/// Where a ``NetlinkSocket``'s change requests go: the kernel, or in unit
/// tests a ``RecordingNetlinkTransport`` (the apple/containerization way:
/// request bytes kept, answers replayed), so that what HostNet asks the
/// kernel for is checked without root.
protocol NetlinkTransport: AnyObject {
    /// Sends one request (a libnl `nl_msg`, which this call frees) and waits
    /// for the kernel's answer: 0 for an ACK, else a negative libnl error.
    func exchange(_ message: OpaquePointer) -> Int32
}

/// The kernel, through libnl: it completes the header (port, sequence,
/// NLM_F_REQUEST | NLM_F_ACK), sends, and waits for the ACK.
final class KernelNetlinkTransport: NetlinkTransport {
    private let socket: OpaquePointer
    init(_ socket: OpaquePointer) { self.socket = socket }
    func exchange(_ message: OpaquePointer) -> Int32 { nl_send_sync(socket, message) }
}

/// Keeps each request's bytes (as built, before libnl completes the header)
/// and answers from a list of replies: 0 or a negative libnl error each, 0
/// once the list is used up.
final class RecordingNetlinkTransport: NetlinkTransport {
    private(set) var requests: [[UInt8]] = []
    var replies: [Int32]

    init(replies: [Int32] = []) { self.replies = replies }

    func exchange(_ message: OpaquePointer) -> Int32 {
        let header = nlmsg_hdr(message)!
        requests.append(Array(UnsafeRawBufferPointer(start: header, count: Int(header.pointee.nlmsg_len))))
        nlmsg_free(message)
        return replies.isEmpty ? 0 : replies.removeFirst()
    }
}
