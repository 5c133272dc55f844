import Glibc

/// The processes under /proc, read without allocating a view of each.
public enum ProcessTable {
    /// The first pid for which `matches` (given /proc's descriptor and the pid as text) holds.
    public static func first(where matches: (Int32, String) -> Bool) -> String? {
        guard let directory = opendir("/proc") else { return nil }
        defer { closedir(directory) }
        let proc = dirfd(directory)
        while let entry = readdir(directory) {
            let pid = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let first = pid.utf8.first, first >= UInt8(ascii: "1"), first <= UInt8(ascii: "9") else { continue }
            if matches(proc, pid) { return pid }
        }
        return nil
    }

    /// The pids of `uid`'s processes running `command` (its first 15 bytes, as
    /// the kernel keeps them).
    public static func processes(running command: String, uid: uid_t) -> [String] {
        let name = Array(command.utf8.prefix(15))
        var comm = [UInt8](repeating: 0, count: 32)
        var found: [String] = []
        _ = first { proc, pid in
            var info = stat()
            // The owner first: cheap, and it rules out most processes before their comm is read.
            guard fstatat(proc, pid, &info, 0) == 0, info.st_uid == uid else { return false }
            let fd = openat(proc, "\(pid)/comm", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return false }
            let count = comm.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            close(fd)
            if count > 0, Array(comm.prefix(count).prefix { $0 != UInt8(ascii: "\n") }) == name { found.append(pid) }
            return false
        }
        return found
    }

    /// Whether the process `pid` runs in the network namespace open at `fd`.
    public static func process(_ pid: String, isInNamespace fd: Int32) -> Bool {
        var namespace = stat(), process = stat()
        guard fstat(fd, &namespace) == 0, stat("/proc/\(pid)/ns/net", &process) == 0 else { return false }
        return process.st_ino == namespace.st_ino && process.st_dev == namespace.st_dev
    }
}
