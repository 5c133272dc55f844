import CNetlinkRoute

@testable import HostNet

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
