import CPvDShim
import Glibc
import PvDCore

/// Puts the calling process into a domain the way `ip netns exec` does, and
/// further: its network namespace, a private mount namespace where the
/// domain's resolv.conf covers `/etc/resolv.conf`, and the host's resolver
/// daemons (nscd, systemd-resolved) out of sight so that name lookups use the
/// domain's DNS servers. Call it while the process has a single thread
/// (unshare(CLONE_NEWNS) refuses otherwise), before anything starts threads.
public enum DomainEntry {
    /// Sockets of resolvers that would answer from the host's network.
    static let hostResolvers = ["/run/nscd", "/run/systemd/resolve"]

    public static func enter(domain name: String) throws(HostNetError) {
        let naming: DomainNaming
        do { naming = try DomainNaming(name: name) } catch { throw HostNetError(step: "enter domain", object: name, reason: error.description) }
        let namespace = Namespaces.path(naming.namespace)
        let fd = open(namespace, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw systemError("open namespace", namespace) }
        defer { close(fd) }
        guard pvd_setns(fd, pvd_clone_newnet) == 0 else { throw systemError("enter network namespace", namespace) }
        guard pvd_unshare(pvd_clone_newns) == 0 else { throw systemError("make a private mount namespace", name) }
        // Nothing mounted from here on reaches the host's mount namespace.
        guard mount("", "/", nil, UInt(MS_SLAVE | MS_REC), nil) == 0 else { throw systemError("make mounts private", "/") }
        let resolvConf = "/etc/netns/\(naming.namespace)/resolv.conf"
        guard mount(resolvConf, "/etc/resolv.conf", nil, UInt(MS_BIND), nil) == 0 else {
            throw systemError("bind the domain's resolv.conf", resolvConf)
        }
        for directory in hostResolvers where access(directory, F_OK) == 0 {
            guard mount("tmpfs", directory, "tmpfs", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC), "size=4k,mode=755") == 0 else {
                throw systemError("hide the host's resolver", directory)
            }
        }
    }

    /// Gives up root for good: no supplementary groups, `uid`/`gid` (setuid from root sets
    /// the real, effective and saved ids, and clears the capabilities).
    public static func dropPrivileges(uid: uid_t, gid: gid_t) throws(HostNetError) {
        guard setgroups(0, nil) == 0 else { throw systemError("drop supplementary groups", "\(uid)") }
        guard setgid(gid) == 0 else { throw systemError("set group", "\(gid)") }
        guard setuid(uid) == 0 else { throw systemError("set user", "\(uid)") }
        guard setuid(0) != 0 else { throw HostNetError(step: "drop privileges", object: "\(uid)", reason: "root could be regained") }
    }
}
