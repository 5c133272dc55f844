import BusWire
import CPvDShim
import Glibc
import LinuxSystem
import PvDCore

/// The system bus as a program in a domain sees it: through xdg-dbus-proxy
/// (as Flatpak filters its sandboxes' buses), started for each `pvd exec` as
/// the program's own user, so that the bus and polkit see the caller's
/// credentials. Services that answer from the host's network — name
/// resolution (systemd-resolved, Avahi) — are not reachable; those desktop
/// programs use are. Without xdg-dbus-proxy installed, the bus is left as it is.
///
/// The real bus stays reachable for the proxy alone, through a descriptor of
/// its directory that only the proxy inherits; `/run/dbus` is covered by a
/// tmpfs the user owns, where the proxy makes its socket.
public enum SystemBusFilter {
    static let proxy = "/usr/bin/xdg-dbus-proxy"
    static let directory = "/run/dbus"
    static let socketName = "system_bus_socket"
    /// The services a program in a domain may call (and see).
    static let allowed = [
        "org.freedesktop.login1", "org.freedesktop.PolicyKit1", "org.freedesktop.UPower", "org.freedesktop.UDisks2",
        "org.freedesktop.NetworkManager", "org.freedesktop.Accounts", "org.freedesktop.hostname1", "org.freedesktop.locale1",
        "org.freedesktop.timedate1", "org.freedesktop.RealtimeKit1", "org.bluez", PvDBusAPI.busName,
    ]
    /// How long the proxy may take to listen.
    static let startTimeout: Int32 = 2000

    /// As root, before the program's user is taken: a descriptor of the real
    /// bus's directory (kept from the program), and `/run/dbus` covered by a
    /// tmpfs `uid` owns. Nil when there is nothing to filter (no system bus
    /// socket, or no xdg-dbus-proxy).
    public static func prepare(owner uid: uid_t, group gid: gid_t) throws(SystemError) -> Int32? {
        guard access(proxy, X_OK) == 0, access("\(directory)/\(socketName)", F_OK) == 0 else { return nil }
        // Not close-on-exec: the proxy inherits it (the program does not: it is closed before).
        let opened = pvd_open_path_directory(directory)
        guard opened >= 0 else { throw systemError("open the system bus's directory", directory) }
        let real = FileDescriptor(taking: opened)
        guard mount("tmpfs", directory, "tmpfs", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC), "size=16k,mode=755,uid=\(uid),gid=\(gid)") == 0 else {
            throw systemError("cover the system bus", directory)
        }
        return real.release()
    }

    /// As the program's user: starts the proxy on the real bus (`real`, from
    /// ``prepare(owner:group:)``, closed here) and returns once it listens.
    /// The returned descriptor stays open in the program and whatever it
    /// starts (not close-on-exec): the proxy ends when its last copy closes.
    public static func start(realBus: Int32) throws(SystemError) -> Int32 {
        let real = FileDescriptor(taking: realBus)
        // The proxy gets the write end (and writes a byte there once it
        // listens); it ends when every copy of the read end is closed, so
        // the read end is the program's alone.
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw systemError("make a pipe", "for xdg-dbus-proxy") }
        let keep = FileDescriptor(taking: ends[0])
        let proxyEnd = FileDescriptor(taking: ends[1])
        _ = fcntl(keep.rawValue, F_SETFD, FD_CLOEXEC)
        let arguments =
            [
                "--fd=\(proxyEnd.rawValue)", "unix:path=/proc/self/fd/\(real.rawValue)/\(socketName)", "\(directory)/\(socketName)", "--filter",
            ] + allowed.map { "--talk=\($0)" }
        let pid = try ChildProcess.spawnLogging(proxy, arguments, log: nil)
        proxyEnd.close()
        real.close()
        // The proxy writes a byte once it listens.
        var poll = pollfd(fd: keep.rawValue, events: Int16(POLLIN), revents: 0)
        guard Glibc.poll(&poll, 1, startTimeout) == 1, (try? keep.read(upTo: 1))?.count == 1 else {
            kill(pid, SIGKILL)
            throw SystemError(step: "start xdg-dbus-proxy", object: directory, reason: "it did not listen within \(startTimeout) ms")
        }
        _ = fcntl(keep.rawValue, F_SETFD, 0)  // the program inherits it
        return keep.release()
    }
}
