import Glibc
import PvDCore

/// An open file descriptor, closed exactly once: when its owner lets it go
/// (or at ``close()``), never twice and never left open on an error path.
/// Reads and writes go on through EINTR and report errno as SystemError.
/// In the manner of swift-system's `FileDescriptor`, but owning.
public struct FileDescriptor: ~Copyable {
    /// The kernel's number for it, for calls this type does not wrap.
    public let rawValue: Int32

    /// Takes over `rawValue` (from socket, accept, pidfd_open, …).
    public init(taking rawValue: Int32) {
        self.rawValue = rawValue
    }

    /// Opens `path` with `flags` (O_CLOEXEC is added); `what`: the step
    /// its error names ("open", "create file", …).
    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644, what: String = "open") throws(SystemError) -> FileDescriptor {
        let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
        guard fd >= 0 else { throw systemError(what, path) }
        return FileDescriptor(taking: fd)
    }

    /// At most `count` bytes from the current offset; empty at the end.
    public func read(upTo count: Int) throws(SystemError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        while true {
            let read = bytes.withUnsafeMutableBytes { Glibc.read(rawValue, $0.baseAddress, count) }
            if read >= 0 { return Array(bytes.prefix(read)) }
            guard errno == EINTR else { throw systemError("read", "descriptor \(rawValue)") }
        }
    }

    /// What is left up to the end, or, when that is more than `limit` bytes,
    /// the first `limit + 1` (so the caller can tell). A device or pipe that
    /// never ends is cut off there.
    public func readAll(limit: Int) throws(SystemError) -> [UInt8] {
        var data: [UInt8] = []
        while data.count <= limit {
            let room = limit - data.count
            let chunk = try read(upTo: room < 4096 ? room + 1 : 4096)
            if chunk.isEmpty { break }
            data += chunk
        }
        return data
    }

    /// Writes all of `bytes`, through EINTR and short writes.
    public func write(_ bytes: [UInt8]) throws(SystemError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(rawValue, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { throw systemError("write", "descriptor \(rawValue)") }
            offset += written
        }
    }

    /// The file's status (fstat).
    public func status() throws(SystemError) -> stat {
        var info = stat()
        guard fstat(rawValue, &info) == 0 else { throw systemError("inspect", "descriptor \(rawValue)") }
        return info
    }

    /// Gives the number up without closing it, to an owner that closes it.
    public consuming func release() -> Int32 {
        let fd = rawValue
        discard self
        return fd
    }

    /// Closes it now rather than when its owner goes.
    public consuming func close() {
        Glibc.close(rawValue)
        discard self
    }

    deinit {
        Glibc.close(rawValue)
    }
}
