import BusWire
import Glibc
import LinuxSystem

/// A connection to a D-Bus bus that makes method calls in the wire format
/// itself (``BusWireMessage``), without libsystemd: `pvd exec` asks pvdd
/// for a namespace this way, so that the capability-holding `pvd` is one
/// static program that loads no library. Authentication (SASL EXTERNAL,
/// the bus checks the socket's credentials), descriptor passing and Hello
/// go out with the first call in one write; replies are read in order.
public final class BusCallConnection {
    private let socket: FileDescriptor
    private var received: [UInt8] = []
    /// Descriptors received so far (SCM_RIGHTS), oldest first.
    private var descriptors: [Int32] = []
    private var authenticated = false
    private var nextSerial: UInt32 = 1
    private var pending: [UInt8] = []
    /// How long a reply may take.
    static let timeoutSeconds = 25

    /// Connects to the bus at `address` (a D-Bus address).
    public init(address: String) throws(BusError) {
        guard let target = BusAddress(address) else {
            throw BusError("org.freedesktop.DBus.Error.BadAddress", "no unix:path= or unix:abstract= in the bus address \(address)")
        }
        do { socket = try UnixSocket.connect(target.socketPath, receiveTimeout: Self.timeoutSeconds) } catch {
            // No errno: the path is longer than a socket address holds.
            throw BusError("org.freedesktop.DBus.Error.\(error.code == nil ? "BadAddress" : "Failed")", error.description)
        }
        // The uid as text, hex-encoded byte by byte: decimal digits are 0x30…0x39.
        pending = Array("\0AUTH EXTERNAL ".utf8)
        for digit in String(geteuid()).utf8 { pending += [UInt8(ascii: "3"), digit] }
        pending += Array("\r\nNEGOTIATE_UNIX_FD\r\nBEGIN\r\n".utf8)
        _ = try queue(
            .methodCall(
                serial: 0, destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus",
                interface: "org.freedesktop.DBus", member: "Hello"))
    }

    deinit {
        for descriptor in descriptors { close(descriptor) }
    }

    /// Sends `call` (its serial is chosen here) with anything still queued;
    /// returns the serial for ``reply(to:)``.
    public func send(_ call: BusWireMessage) throws(BusError) -> UInt32 {
        let serial = try queue(call)
        defer { pending = [] }
        var sent = 0
        while sent < pending.count {
            let count = pending[sent...].withUnsafeBytes { Glibc.send(socket.rawValue, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { throw Self.systemFailure("send to the bus", errno) }
            sent += count
        }
        return serial
    }

    private func queue(_ message: BusWireMessage) throws(BusError) -> UInt32 {
        var numbered = message
        numbered.serial = nextSerial
        nextSerial += 1
        do { pending += try numbered.encoded() } catch {
            throw BusError("org.freedesktop.DBus.Error.InvalidArgs", "\(error)")
        }
        return numbered.serial
    }

    /// The values of the reply to `serial` and the descriptors that came with
    /// it (a `.unixFD` value indexes them; they are the caller's to close), or
    /// the error it carries. Messages before it (Hello's reply, signals) are skipped.
    public func reply(to serial: UInt32) throws(BusError) -> (values: [BusValue], descriptors: [Int32]) {
        if !authenticated { try authenticate() }
        while true {
            let message = try nextMessage()
            let carried = Array(descriptors.prefix(Int(message.unixFDs)))
            descriptors.removeFirst(carried.count)
            guard message.replySerial == serial || (message.replySerial == 1 && message.kind == .error) else {
                for descriptor in carried { close(descriptor) }
                continue
            }
            if message.kind == .error {
                for descriptor in carried { close(descriptor) }
                throw BusError(message.errorName ?? "org.freedesktop.DBus.Error.Failed", message.body.first?.text ?? "")
            }
            return (message.body, carried)
        }
    }

    /// The server's two answers: `OK <guid>` to AUTH, `AGREE_UNIX_FD` to NEGOTIATE_UNIX_FD.
    private func authenticate() throws(BusError) {
        let answer = try line()
        guard answer.hasPrefix("OK ") else {
            throw BusError("org.freedesktop.DBus.Error.AuthFailed", "the bus did not accept uid \(geteuid()): \(answer)")
        }
        guard try line() == "AGREE_UNIX_FD" else {
            throw BusError("org.freedesktop.DBus.Error.NotSupported", "the bus does not pass file descriptors")
        }
        authenticated = true
    }

    private func line() throws(BusError) -> String {
        while true {
            if let end = received.firstIndex(of: UInt8(ascii: "\n")) {
                let text = String(decoding: received[..<end], as: UTF8.self)
                received.removeFirst(end + 1)
                return text.hasSuffix("\r") ? String(text.dropLast()) : text
            }
            guard received.count < 512 else { throw BusError("org.freedesktop.DBus.Error.AuthFailed", "an authentication line too long") }
            try receive()
        }
    }

    private func nextMessage() throws(BusError) -> BusWireMessage {
        while received.count < BusWireMessage.fixedHeaderLength { try receive() }
        let header = received.prefix(BusWireMessage.fixedHeaderLength)
        let length = try decoded { () throws(BusWireError) in try BusWireMessage.length(ofMessageStartingWith: header) }
        while received.count < length { try receive() }
        let bytes = Array(received.prefix(length))
        received.removeFirst(length)
        return try decoded { () throws(BusWireError) in try BusWireMessage(decoding: bytes) }
    }

    private func decoded<T>(_ decode: () throws(BusWireError) -> T) throws(BusError) -> T {
        do { return try decode() } catch { throw BusError("org.freedesktop.DBus.Error.InconsistentMessage", "\(error)") }
    }

    /// Reads what the socket has, keeping any descriptors that come with it.
    private func receive() throws(BusError) {
        var chunk = [UInt8](repeating: 0, count: 4096)
        var control = [UInt8](repeating: 0, count: 256)
        let count = chunk.withUnsafeMutableBytes { data in
            control.withUnsafeMutableBytes { controlBytes in
                var vector = iovec(iov_base: data.baseAddress, iov_len: data.count)
                return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                    var header = msghdr()
                    header.msg_iov = vectorPointer
                    header.msg_iovlen = 1
                    header.msg_control = controlBytes.baseAddress
                    header.msg_controllen = controlBytes.count
                    let count = recvmsg(socket.rawValue, &header, Int32(MSG_CMSG_CLOEXEC))
                    if count >= 0 { collectDescriptors(header) }
                    return count
                }
            }
        }
        if count < 0, errno == EINTR { return }
        if count < 0, errno == EAGAIN || errno == EWOULDBLOCK {
            throw BusError("org.freedesktop.DBus.Error.Timeout", "no answer on the bus in \(Self.timeoutSeconds) s")
        }
        guard count >= 0 else { throw Self.systemFailure("read from the bus", errno) }
        guard count > 0 else { throw BusError("org.freedesktop.DBus.Error.Disconnected", "the bus closed the connection") }
        received += chunk.prefix(count)
    }

    private func collectDescriptors(_ header: msghdr) {
        guard let control = header.msg_control, header.msg_controllen >= MemoryLayout<cmsghdr>.size else { return }
        var offset = 0
        while offset + MemoryLayout<cmsghdr>.size <= header.msg_controllen {
            let message = (control + offset).load(as: cmsghdr.self)
            guard message.cmsg_len >= MemoryLayout<cmsghdr>.size, offset + message.cmsg_len <= header.msg_controllen else { return }
            if message.cmsg_level == SOL_SOCKET, message.cmsg_type == Int32(SCM_RIGHTS) {
                let count = (message.cmsg_len - MemoryLayout<cmsghdr>.size) / MemoryLayout<Int32>.size
                for index in 0..<count {
                    descriptors.append((control + offset + MemoryLayout<cmsghdr>.size + index * 4).loadUnaligned(as: Int32.self))
                }
            }
            offset += (message.cmsg_len + 7) & ~7
        }
    }

    private static func systemFailure(_ step: String, _ code: Int32) -> BusError {
        BusError("org.freedesktop.DBus.Error.Failed", systemError(step, "", errno: code).description)
    }
}
