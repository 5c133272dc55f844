import CPvDShim
import Glibc
import PvDCore

/// Named network namespaces the iproute2 way: a file under /run/netns with
/// the namespace bind-mounted on it, /run/netns itself a shared mount, so
/// `ip netns list` and `ip netns exec` see them (iproute2's lib/namespace.c
/// and ip/ipnetns.c do the same).
public enum Namespaces {
    /// Where /run/netns's mounts are made: nil, in this process's mount
    /// namespace; else a descriptor of another one. pvdd under systemd's
    /// sandbox runs in a mount namespace of its own, which only receives
    /// the host's mounts: a namespace it mounted there would never be seen
    /// by `ip netns` or `pvd exec`. Set once at start (``makeMounts(in:)``).
    nonisolated(unsafe) private static var mountNamespace: Int32?

    /// From now on, make /run/netns's mounts in the mount namespace at
    /// `path` (e.g. /proc/1/ns/mnt, the host's).
    public static func makeMounts(in path: String) throws(SystemError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw systemError("open mount namespace", path) }
        mountNamespace = fd
    }

    /// mount(2), here or in ``mountNamespace``: 0 or the errno.
    private static func mount(_ source: String, _ target: String, _ flags: Int) -> Int32 {
        if let fd = mountNamespace { return pvd_mount_in(fd, source, target, "none", UInt(flags)) }
        return Glibc.mount(source, target, "none", UInt(flags), nil) == 0 ? 0 : errno
    }

    /// umount2(2) with MNT_DETACH, here or in ``mountNamespace``: 0 or the errno.
    private static func unmount(_ target: String) -> Int32 {
        if let fd = mountNamespace { return pvd_umount_in(fd, target, Int32(MNT_DETACH)) }
        return umount2(target, Int32(MNT_DETACH)) == 0 ? 0 : errno
    }

    /// The inode of the calling thread's network namespace.
    public static func ownInode() throws(SystemError) -> ino_t {
        guard let inode = inode("/proc/thread-self/ns/net") else { throw systemError("identify namespace", "/proc/thread-self/ns/net") }
        return inode
    }

    /// The inode of a namespace file (`/run/netns/NAME`, `/proc/self/ns/net`):
    /// how /proc names the namespace a process is in. Nil when it is not there.
    public static func inode(_ path: String) -> ino_t? {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_ino : nil
    }

    /// Whether `path` is a namespace mounted there (on nsfs, as this process's
    /// own is), not the empty file left behind when it was unmounted.
    public static func isNamespaceFile(_ path: String) -> Bool {
        var file = stat()
        var own = stat()
        return stat(path, &file) == 0 && stat("/proc/self/ns/net", &own) == 0 && file.st_dev == own.st_dev
    }

    public static func exists(_ name: String) -> Bool {
        var info = stat()
        return lstat(Paths.namespace(name), &info) == 0
    }

    /// Whether any process lives in the namespace `name`: its nsfs inode
    /// against every /proc/<pid>/ns/net.
    public static func hasProcesses(_ name: String) -> Bool {
        var target = stat()
        guard stat(Paths.namespace(name), &target) == 0 else { return false }
        return ProcessTable.first { proc, pid in
            var info = stat()
            guard fstatat(proc, "\(pid)/ns/net", &info, 0) == 0, info.st_ino == target.st_ino, info.st_dev == target.st_dev else {
                return false
            }
            return !isZombie(pid)
        } != nil
    }

    /// Whether the process has exited and waits to be reaped (state Z in
    /// /proc/PID/stat, after the command name in parentheses).
    private static func isZombie(_ pid: String) -> Bool {
        guard let stat = HostFiles.read("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].drop(while: { $0 == " " }).first == "Z"
    }

    /// Creates the namespace `name` with nothing in it but a `lo` that is down.
    public static func create(_ name: String) throws(SystemError) {
        try prepareDirectory()
        let file = Paths.namespace(name)
        let fd = open(file, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0)
        guard fd >= 0 else { throw systemError("create namespace file", file) }
        close(fd)
        var failure: SystemError?
        runOnThread {
            guard pvd_unshare(pvd_clone_newnet) == 0 else {
                failure = systemError("unshare network namespace", name)
                return
            }
            // A child forked from this thread for another mount namespace is in this network namespace too.
            let code = mount("/proc/thread-self/ns/net", file, MS_BIND)
            if code != 0 { failure = systemError("bind-mount namespace", file, errno: code) }
        }
        if let failure {
            unlink(file)
            throw failure
        }
    }

    /// Publishes an existing namespace (`source`, a /proc/…/ns/net path) as
    /// the named namespace `name`.
    public static func attach(_ name: String, source: String) throws(SystemError) {
        try prepareDirectory()
        let file = Paths.namespace(name)
        let fd = open(file, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0)
        guard fd >= 0 else { throw systemError("create namespace file", file) }
        close(fd)
        let code = mount(source, file, MS_BIND)
        guard code == 0 else {
            unlink(file)
            throw systemError("bind-mount namespace", file, errno: code)
        }
    }

    /// Unmounts and removes the namespace file; the namespace goes away with
    /// its last user. An absent namespace is not an error.
    public static func delete(_ name: String) throws(SystemError) {
        let file = Paths.namespace(name)
        guard exists(name) else { return }
        let code = unmount(file)
        if code != 0, code != EINVAL { throw systemError("unmount namespace", file, errno: code) }
        guard unlink(file) == 0 || errno == ENOENT else { throw systemError("remove namespace file", file) }
    }

    /// An O_CLOEXEC descriptor of the namespace, for setns and for moving links.
    public static func openDescriptor(_ name: String) throws(SystemError) -> Int32 {
        let fd = open(Paths.namespace(name), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw systemError("open namespace", Paths.namespace(name)) }
        return fd
    }

    /// Runs `body` on a new thread that has entered the named namespace
    /// (`/run/netns/NAME`), and waits for it.
    public static func run<T>(inNamed name: String, _ body: () throws(SystemError) -> T) throws(SystemError) -> T {
        let fd = try openDescriptor(name)
        defer { close(fd) }
        return try run(in: fd, name: name, body)
    }

    /// Runs `body` on a new thread that has entered the namespace open at `fd`,
    /// and waits for it. `setns` is per thread, so the caller's thread (and any
    /// Swift concurrency pool thread) never changes namespace.
    public static func run<T>(in fd: Int32, name: String, _ body: () throws(SystemError) -> T) throws(SystemError) -> T {
        var result: Result<T, SystemError>?
        withoutActuallyEscaping(body) { body in
            runOnThread {
                guard pvd_setns(fd, pvd_clone_newnet) == 0 else {
                    result = .failure(systemError("enter namespace", name))
                    return
                }
                result = Result { () throws(SystemError) in try body() }
            }
        }
        return try result!.get()
    }

    /// A socket made inside the named namespace (a socket keeps the namespace
    /// it was made in); `owner`: the uid it belongs to (its sk_uid, which
    /// firewalls and uid routing see), set with setfsuid on the thread that makes it.
    public static func socket(inNamed name: String, family: Int32, type: Int32, protocol socketProtocol: Int32, owner: uid_t) throws(SystemError) -> Int32 {
        try run(inNamed: name) { () throws(SystemError) -> Int32 in
            _ = pvd_setfsuid(owner)
            let fd = Glibc.socket(family, type, socketProtocol)
            guard fd >= 0 else { throw systemError("make a socket", "namespace \(name)") }
            return fd
        }
    }

    /// /run/netns exists and is a shared mount point, so that namespaces
    /// mounted under it are seen from every mount namespace.
    private static func prepareDirectory() throws(SystemError) {
        guard mkdir(Paths.namespaces, 0o755) == 0 || errno == EEXIST else { throw systemError("create directory", Paths.namespaces) }
        let shared = mount("", Paths.namespaces, MS_SHARED | MS_REC)
        if shared == 0 { return }
        guard shared == EINVAL else { throw systemError("make shared", Paths.namespaces, errno: shared) }
        let bound = mount(Paths.namespaces, Paths.namespaces, MS_BIND | MS_REC)
        guard bound == 0 else { throw systemError("bind-mount", Paths.namespaces, errno: bound) }
        let again = mount("", Paths.namespaces, MS_SHARED | MS_REC)
        guard again == 0 else { throw systemError("make shared", Paths.namespaces, errno: again) }
    }
}

/// A closure handed to a pthread through an opaque pointer.
private final class ThreadWork {
    public let work: () -> Void
    init(_ work: @escaping () -> Void) { self.work = work }
}

/// Runs `work` on a fresh pthread and joins it. The trampoline is not
/// generic: a @convention(c) closure capturing a generic parameter crashes
/// the 6.3 compiler.
private func runOnThread(_ work: () -> Void) {
    withoutActuallyEscaping(work) { work in
        let box = Unmanaged.passRetained(ThreadWork(work))
        var thread = pthread_t()
        let started = pthread_create(
            &thread, nil,
            { context in
                Unmanaged<ThreadWork>.fromOpaque(context!).takeRetainedValue().work()
                return nil
            }, box.toOpaque())
        precondition(started == 0, "pthread_create failed: \(started)")
        pthread_join(thread, nil)
    }
}
