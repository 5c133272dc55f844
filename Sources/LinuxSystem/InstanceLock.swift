import Glibc
import PvDCore

/// One pvdd per host network namespace: an exclusive lock on
/// `/run/pvd/pvdd-<netns inode>.lock`, held for the daemon's life (the kernel
/// lets go of it when the process ends, however it ends). The file holds the
/// holder's pid, for the message a second pvdd prints.
public final class InstanceLock {
    private let descriptor: Int32

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// The lock, or the pid of the pvdd that holds it.
    public static func acquire(directory: String = Paths.runtime) throws(SystemError) -> Result<InstanceLock, InstanceHeld> {
        try HostFiles.makeDirectories(directory)
        var own = stat()
        guard stat("/proc/thread-self/ns/net", &own) == 0 else { throw systemError("identify namespace", "/proc/thread-self/ns/net") }
        let path = "\(directory)/pvdd-\(own.st_ino).lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw systemError("open", path) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let failure = errno
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = pread(fd, &buffer, buffer.count, 0)
            close(fd)
            guard failure == EWOULDBLOCK else { throw systemError("lock", path, errno: failure) }
            let pid = String(decoding: buffer.prefix(max(0, count)).filter { $0 >= 48 && $0 <= 57 }, as: UTF8.self)
            return .failure(InstanceHeld(pid: pid.isEmpty ? "unknown" : pid, lockFile: path))
        }
        var text = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = text.withUTF8 { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return .success(InstanceLock(descriptor: fd))
    }
}

/// Another pvdd holds this namespace's lock.
public struct InstanceHeld: Error, CustomStringConvertible {
    public var pid: String
    public var lockFile: String
    public var description: String { "pvdd is already running in this network namespace (pid \(pid), \(lockFile))" }
}
