import CNetlinkRoute

/// Where a ``NetlinkSocket``'s change requests go: the kernel, or in unit
/// tests a RecordingNetlinkTransport (Tests/HostNetTests) (the apple/containerization way:
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
