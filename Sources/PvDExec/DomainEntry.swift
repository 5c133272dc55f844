import CCap
import CPvDShim
import Glibc
import LinuxSystem
import PvDCore

/// Puts the calling process into a domain the way `ip netns exec` does, and
/// further (docs/design.md, "pvd exec, step by step", steps 2 to 6): its network
/// namespace; a private mount namespace where /sys shows the domain's links,
/// the domain's resolv.conf covers `/etc/resolv.conf` (or what that link
/// points to), nsswitch.conf resolves host names by files and DNS only, and
/// the host's resolver daemons (nscd, systemd-resolved) are out of sight, so
/// that name lookups use the domain's DNS servers; then the caller's user,
/// with no capability left. ``privateMounts()`` comes first, while the
/// process has a single thread (unshare(CLONE_NEWNS) refuses otherwise).
public enum DomainEntry {
    /// Sockets of resolvers that would answer from the host's network.
    static let hostResolvers = ["/run/nscd", "/run/systemd/resolve"]

    /// Enters the domain `name` by its namespace file (for pvdd's own helpers,
    /// which root starts).
    public static func enter(domain name: String) throws(SystemError) {
        let naming: DomainNaming
        do { naming = try DomainNaming(name: name) } catch { throw SystemError(step: "enter domain", object: name, reason: error.description) }
        let path = Paths.namespace(naming.namespace)
        let namespace = try FileDescriptor.open(path, O_RDONLY, what: "open namespace")
        try privateMounts()
        try enter(namespace: namespace.rawValue, named: naming.namespace)
    }

    /// Gives the process a mount namespace of its own, `/` a recursive slave:
    /// nothing mounted from here on reaches the host's. Call it while the
    /// process has a single thread.
    public static func privateMounts() throws(SystemError) {
        guard pvd_unshare(pvd_clone_newns) == 0 else { throw systemError("make a private mount namespace", "/") }
        guard mount("", "/", nil, UInt(MS_SLAVE | MS_REC), nil) == 0 else { throw systemError("make mounts private", "/") }
    }

    /// Enters the network namespace open at `fd` (pvdd handed it out), whose
    /// name under /run/netns is `namespace` (its files are under /etc/netns),
    /// and mounts the domain's view of the host in the mount namespace
    /// ``privateMounts()`` made.
    public static func enter(namespace fd: Int32, named namespace: String) throws(SystemError) {
        guard pvd_setns(fd, pvd_clone_newnet) == 0 else { throw systemError("enter network namespace", namespace) }
        // sysfs shows the links of the namespace that mounts it: a new one
        // goes over the host's, and the host's cgroup tree (which container
        // engines and systemd-run read) is bound back over its empty
        // /sys/fs/cgroup, from a descriptor opened before. Without it only
        // such programs miss something, so a failure there stops nothing.
        let cgroups = pvd_open_path_directory("/sys/fs/cgroup")
        defer { if cgroups >= 0 { close(cgroups) } }
        guard mount("sysfs", "/sys", "sysfs", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC), nil) == 0 else {
            throw systemError("mount the domain's /sys", "/sys")
        }
        if cgroups >= 0 { _ = mount("/proc/self/fd/\(cgroups)", "/sys/fs/cgroup", nil, UInt(MS_BIND | MS_REC), nil) }
        // Where /etc/resolv.conf leads, read before the resolvers' directories are covered.
        let resolvTarget = resolvedPath("/etc/resolv.conf")
        for directory in hostResolvers where access(directory, F_OK) == 0 {
            guard mount("tmpfs", directory, "tmpfs", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC), "size=16k,mode=755") == 0 else {
                throw systemError("hide the host's resolver", directory)
            }
        }
        let resolvConf = Paths.files(ofNamespace: namespace) + "/resolv.conf"
        if access(resolvConf, R_OK) == 0 {
            try bindOver(resolvTarget, from: resolvConf)
        }
        let nsswitch = Paths.files(ofNamespace: namespace) + "/nsswitch.conf"
        if access(nsswitch, R_OK) == 0, access("/etc/nsswitch.conf", F_OK) == 0 {
            guard mount(nsswitch, "/etc/nsswitch.conf", nil, UInt(MS_BIND), nil) == 0 else {
                throw systemError("bind the domain's nsswitch.conf", nsswitch)
            }
        }
    }

    /// The path a chain of symbolic links ends at (the last one need not
    /// exist), with its directory made canonical: systemd-resolved's relative
    /// `/etc/resolv.conf -> ../run/systemd/resolve/stub-resolv.conf` becomes
    /// `/run/systemd/resolve/stub-resolv.conf`, which pvd compares with the
    /// resolvers' directories and binds over.
    static func resolvedPath(_ path: String) -> String {
        var current = path
        for _ in 0..<16 {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
            let length = readlink(current, &buffer, buffer.count - 1)
            guard length > 0 else { break }
            let target = String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            current = target.hasPrefix("/") ? target : String(current[..<current.lastIndex(of: "/")!]) + "/" + target
        }
        return canonicalDirectory(of: current)
    }

    /// `path` (absolute) with its directory resolved by realpath(3) (`.`,
    /// `..` and links in it), its last part kept as it is; unchanged when
    /// the directory does not exist.
    static func canonicalDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        let directory = slash == path.startIndex ? "/" : String(path[..<slash])
        guard let real = realpath(directory, nil) else { return path }
        defer { free(real) }
        let base = String(cString: real)
        return (base == "/" ? "" : base) + path[slash...]
    }

    /// Binds `source` over `target`; a target inside a directory covered by
    /// pvd's tmpfs (systemd-resolved's stub file) is made there first.
    private static func bindOver(_ target: String, from source: String) throws(SystemError) {
        if access(target, F_OK) != 0, hostResolvers.contains(where: { target.hasPrefix($0 + "/") }) {
            var directory = ""
            for part in target.split(separator: "/").dropLast() {
                directory += "/" + part
                _ = mkdir(directory, 0o755)
            }
            try FileDescriptor.open(target, O_WRONLY | O_CREAT, what: "create").close()
        }
        guard mount(source, target, nil, UInt(MS_BIND), nil) == 0 else {
            throw systemError("bind the domain's resolv.conf", "\(source) over \(target)")
        }
    }

    /// Gives up root for good: no supplementary groups, `uid`/`gid` (setuid from root sets
    /// the real, effective and saved ids, and clears the capabilities).
    public static func dropPrivileges(uid: uid_t, gid: gid_t) throws(SystemError) {
        guard setgroups(0, nil) == 0 else { throw systemError("drop supplementary groups", "\(uid)") }
        guard setgid(gid) == 0 else { throw systemError("set group", "\(gid)") }
        guard setuid(uid) == 0 else { throw systemError("set user", "\(uid)") }
        guard setuid(0) != 0 else { throw SystemError(step: "drop privileges", object: "\(uid)", reason: "root could be regained") }
    }

    /// The supplementary groups a program in a domain runs with.
    public enum Groups: Sendable {
        /// The calling process's own: a user running `pvd exec` themselves
        /// already has their groups, and no user database is needed.
        case kept
        /// These (root acting for the user behind sudo sets the user's).
        case set([gid_t])
    }

    /// Becomes `uid`/`gid` with `groups` for good, with every capability
    /// cleared (permitted, effective, inheritable, ambient) and, unless the
    /// user is root, no_new_privs set: nothing the program runs can gain
    /// privileges again. Checks the result.
    public static func become(uid: uid_t, gid: gid_t, groups: Groups) throws(SystemError) {
        if case .set(let list) = groups {
            guard setgroups(list.count, list) == 0 else { throw systemError("set the groups of", "\(uid)") }
        }
        guard pvd_setresgid(gid) == 0 else { throw systemError("set group", "\(gid)") }
        guard pvd_setresuid(uid) == 0 else { throw systemError("set user", "\(uid)") }
        var real = uid_t()
        var effective = uid_t()
        var saved = uid_t()
        guard pvd_getresuid(&real, &effective, &saved) == 0, real == uid, effective == uid, saved == uid else {
            throw SystemError(step: "set user", object: "\(uid)", reason: "the ids did not change")
        }
        guard pvd_clear_ambient_capabilities() == 0 || errno == EINVAL else { throw systemError("clear ambient capabilities", "\(uid)") }
        let none = cap_init()
        defer { cap_free(UnsafeMutableRawPointer(none)) }
        guard cap_set_proc(none) == 0 else { throw systemError("clear capabilities", "\(uid)") }
        if uid != 0 {
            guard pvd_set_no_new_privs() == 0 else { throw systemError("set no_new_privs", "\(uid)") }
            guard setuid(0) != 0 else { throw SystemError(step: "drop privileges", object: "\(uid)", reason: "root could be regained") }
        }
    }
}
