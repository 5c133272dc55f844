import Glibc
import PvDCore

/// Sysctls under /proc/sys, by path. A thread sees the values of the network
/// namespace it is in, so call these from the namespace's thread.
public enum Sysctl {
    /// The path of an IPv6 per-interface setting (`all` and `default` work too).
    /// Paths, not dotted keys: interface names may contain dots.
    public static func ipv6(_ interface: String, _ setting: String) -> String {
        "/proc/sys/net/ipv6/conf/\(interface)/\(setting)"
    }

    /// The path of an IPv4 per-interface setting.
    public static func ipv4(_ interface: String, _ setting: String) -> String {
        "/proc/sys/net/ipv4/conf/\(interface)/\(setting)"
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public static func read(_ path: String) throws(SystemError) -> String {
        guard let text = HostFiles.read(path) else { throw systemError("read sysctl", path) }
        return String(text.filter { !$0.isWhitespace })
    }

    public static func write(_ path: String, _ value: String) throws(SystemError) {
        let file = try FileDescriptor.open(path, O_WRONLY, what: "open sysctl")
        do { try file.write(Array("\(value)\n".utf8)) } catch { throw error.relabeled("set sysctl", "\(path)=\(value)") }
    }
}

extension String {
    /// The text in a C character buffer, up to its first NUL (or its end).
    public init(cBuffer buffer: [CChar]) {
        self.init(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Small root-owned files (resolv.conf, pvd's state) written atomically,
/// never through a symlink.
public enum HostFiles {
    /// The file's text (its first `limit` bytes), or nil (errno set) when it
    /// cannot be opened or read (a symlink is not followed).
    public static func read(_ path: String, limit: Int = .max) -> String? {
        guard let file = try? FileDescriptor.open(path, O_RDONLY | O_NOFOLLOW), let bytes = try? file.readAll(limit: limit) else { return nil }
        return String(decoding: bytes.prefix(limit), as: UTF8.self)
    }

    /// The last `bytes` of a file as text (a log that grows for ever is never
    /// read whole), or nil when it cannot be read (a symlink is not followed).
    public static func readTail(_ path: String, bytes: Int) -> String? {
        guard let file = try? FileDescriptor.open(path, O_RDONLY | O_NOFOLLOW), let info = try? file.status(),
            lseek(file.rawValue, off_t(max(0, Int(info.st_size) - bytes)), SEEK_SET) >= 0, let tail = try? file.read(upTo: bytes)
        else { return nil }
        return String(decoding: tail, as: UTF8.self)
    }

    /// Moves a log to `path.1` (replacing the one there) when it has grown
    /// past `limit` bytes, so that a log appended to at each start stays
    /// within about twice that. Whether it was moved.
    @discardableResult
    public static func rotate(_ path: String, above limit: Int) -> Bool {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG, Int(info.st_size) > limit else { return false }
        return rename(path, path + ".1") == 0
    }

    /// The bytes of a file only this process's user may have written: a
    /// regular file (not a symlink) owned by the effective user, writable by
    /// no group or other user, of at most `limit` bytes; a `secret` (a key, a
    /// password) also readable by no other user and no group but root's. Nil
    /// when there is no file; an error says which condition failed.
    public static func readOwnFile(_ path: String, limit: Int, secret: Bool = false) throws(SystemError) -> [UInt8]? {
        let file: FileDescriptor
        do { file = try FileDescriptor.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK) } catch {
            if error.code == .errno(ENOENT) { return nil }
            if error.code == .errno(ELOOP) { throw SystemError(step: "trust", object: path, reason: "a symlink; name the file itself", code: error.code) }
            throw error
        }
        var info = stat()
        guard fstat(file.rawValue, &info) == 0 else { throw systemError("inspect", path) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw SystemError(step: "trust", object: path, reason: "not a regular file")
        }
        guard info.st_uid == geteuid() else {
            throw SystemError(step: "trust", object: path, reason: "owned by uid \(info.st_uid), not \(geteuid())")
        }
        guard info.st_mode & (S_IWGRP | S_IWOTH) == 0 else {
            throw SystemError(step: "trust", object: path, reason: "writable by its group or others (mode \(String(info.st_mode & 0o7777, radix: 8)))")
        }
        if secret, info.st_mode & S_IRWXO != 0 || (info.st_mode & S_IRWXG != 0 && info.st_gid != 0) {
            throw SystemError(
                step: "trust", object: path,
                reason: "it holds secrets and others may read it (mode \(String(info.st_mode & 0o7777, radix: 8))); chmod 600 it")
        }
        guard info.st_size <= limit else {
            throw SystemError(step: "trust", object: path, reason: "\(info.st_size) bytes; at most \(limit) are read")
        }
        do { return try file.readAll(limit: limit) } catch { throw error.relabeled("read", path) }
    }

    /// The names in `directory` (not `.` and `..`); empty when it cannot be read.
    public static func entries(of directory: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }

    /// Opens the absolute `path` as a directory, creating missing components
    /// 0755, one component at a time with O_NOFOLLOW: no symlink anywhere on
    /// the way is followed.
    private static func openDirectory(_ path: String) throws(SystemError) -> Int32 {
        var fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw systemError("open directory", "/") }
        var walked = ""
        for component in path.split(separator: "/") {
            walked += "/\(component)"
            if mkdirat(fd, String(component), 0o755) != 0, errno != EEXIST {
                let error = systemError("create directory", walked)
                close(fd)
                throw error
            }
            let next = openat(fd, String(component), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            let openError = errno
            close(fd)
            guard next >= 0 else {
                throw systemError("open directory", walked, errno: openError == ELOOP || openError == ENOTDIR ? ELOOP : openError)
            }
            fd = next
        }
        return fd
    }

    /// Makes `path` and the directories above it (0755), following no symlink.
    public static func makeDirectories(_ path: String) throws(SystemError) {
        close(try openDirectory(path))
    }

    /// Writes `contents` to `directory/name` through a temporary file and rename,
    /// mode 0644; the directory and the file are never followed through symlinks.
    /// Atomic, not durable: no fsync (half a millisecond per file), because
    /// pvdd writes these files anew when it starts.
    public static func writeAtomically(directory: String, name: String, contents: String, mode: mode_t = 0o644) throws(SystemError) {
        let dir = try openDirectory(directory)
        defer { close(dir) }
        let temporary = ".\(name).pvd-\(getpid())"
        let fd = openat(dir, temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode & 0o600)
        guard fd >= 0 else { throw systemError("create file", "\(directory)/\(temporary)") }
        var text = contents
        let written = text.withUTF8 { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == contents.utf8.count, fchmodat(dir, temporary, mode, 0) == 0 else {
            let error = systemError("write file", "\(directory)/\(name)")
            unlinkat(dir, temporary, 0)
            throw error
        }
        guard renameat(dir, temporary, dir, name) == 0 else {
            let error = systemError("rename file", "\(directory)/\(name)")
            unlinkat(dir, temporary, 0)
            throw error
        }
    }

    /// Removes `directory/name`, then the directory if it is left empty.
    public static func remove(directory: String, name: String) throws(SystemError) {
        let file = "\(directory)/\(name)"
        guard unlink(file) == 0 || errno == ENOENT else { throw systemError("remove file", file) }
        guard rmdir(directory) == 0 || errno == ENOENT || errno == ENOTEMPTY else {
            throw systemError("remove directory", directory)
        }
    }
}
