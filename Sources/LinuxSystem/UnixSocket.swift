import Glibc
import PvDCore

/// Stream sockets to Unix socket paths: the one way pvd connects to one
/// (the system bus, OpenVPN's management interface).
public enum UnixSocket {
    /// A connected stream socket (close-on-exec) to `path`: a file path, or
    /// with a leading NUL byte an abstract name. `nonBlocking`: for an
    /// event loop; `receiveTimeout`: seconds a blocking read may wait.
    public static func connect(_ path: [UInt8], nonBlocking: Bool = false, receiveTimeout: Int? = nil) throws(SystemError) -> FileDescriptor {
        let name = String(decoding: path.drop { $0 == 0 }, as: UTF8.self)
        var address = sockaddr_un()
        guard !path.isEmpty, path.count < MemoryLayout.size(ofValue: address.sun_path) else {
            let most = MemoryLayout.size(ofValue: address.sun_path) - 1
            throw SystemError(step: "connect to", object: name, reason: "a socket address holds at most \(most) bytes")
        }
        let flags = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | (nonBlocking ? Int32(SOCK_NONBLOCK.rawValue) : 0)
        let made = socket(AF_UNIX, flags, 0)
        guard made >= 0 else { throw systemError("create a socket for", name) }
        let socket = FileDescriptor(taking: made)
        let fd = socket.rawValue
        if var timeout = receiveTimeout.map({ timeval(tv_sec: $0, tv_usec: 0) }) {
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count + (path.first == 0 ? 0 : 1))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) }
        }
        guard connected == 0 else { throw systemError("connect to", name) }
        return socket
    }
}
