import Glibc
import LinuxSystem
import PvDCore

/// Named namespaces that are not domains, for the D-Bus API: the daemon's
/// own (published as `rootns` for the PvD-aware NetworkManager fork) and
/// bare ones made on request.
extension KernelHostNet {
    /// Publishes the calling thread's network namespace as /run/netns/NAME,
    /// as `ip netns attach NAME <pid>` does. One there already is kept when
    /// it is this namespace (a pvdd killed before it could remove it), and
    /// replaced when it holds no namespace (a stale file); one of another
    /// namespace is refused. True when NAME is this namespace afterwards.
    public static func publishOwnNamespace(as name: String) throws(SystemError) -> Bool {
        if Namespaces.exists(name) {
            if isOwnNamespace(name) { return true }
            // A namespace is bind-mounted over the file (another file system than
            // /run/netns); a file on /run/netns's own is stale.
            var file = stat()
            var directory = stat()
            guard stat(Paths.namespace(name), &file) == 0, stat(Paths.namespaces, &directory) == 0, file.st_dev == directory.st_dev else {
                throw SystemError(
                    step: "publish namespace", object: Paths.namespace(name),
                    reason: "it is another network namespace (another pvdd?)", code: .errno(EEXIST))
            }
            try Namespaces.delete(name)
        }
        try Namespaces.attach(name, source: "/proc/thread-self/ns/net")
        return true
    }

    /// Removes /run/netns/NAME if it is the calling thread's namespace.
    public static func unpublishOwnNamespace(_ name: String) throws(SystemError) {
        guard isOwnNamespace(name) else { return }
        try Namespaces.delete(name)
    }

    private static func isOwnNamespace(_ name: String) -> Bool {
        var published = stat()
        var own = stat()
        return stat(Paths.namespace(name), &published) == 0 && stat("/proc/thread-self/ns/net", &own) == 0
            && published.st_ino == own.st_ino && published.st_dev == own.st_dev
    }

    /// A new namespace /run/netns/NAME with `lo` up and nothing else.
    public func createBareNamespace(_ name: String) throws(SystemError) {
        guard !Namespaces.exists(name) else {
            throw SystemError(step: "create namespace", object: Paths.namespace(name), reason: "it exists already", code: .errno(EEXIST))
        }
        let ping = KernelHostNet.domainPingGroupRange()
        try Namespaces.create(name)
        do {
            try Namespaces.run(inNamed: name) { () throws(SystemError) in
                try KernelHostNet.setPingGroupRange(ping)
                try NetlinkSocket(namespace: name).setLink("lo", up: true)
            }
        } catch {
            try? Namespaces.delete(name)
            throw error
        }
    }

    /// Unmounts and removes /run/netns/NAME.
    public func deleteNamespace(_ name: String) throws(SystemError) {
        try Namespaces.delete(name)
    }

    public func namespaceExists(_ name: String) -> Bool { Namespaces.exists(name) }

    /// A descriptor of /run/netns/NAME (close-on-exec), to hand to a client.
    public static func openNamespace(_ name: String) throws(SystemError) -> Int32 {
        try Namespaces.openDescriptor(name)
    }

    /// The ping range a domain namespace gets (``DomainPlan/pingGroupRange(host:)``),
    /// read from this (the host's) namespace.
    static func domainPingGroupRange() -> String {
        DomainPlan.pingGroupRange(host: (try? Sysctl.read(KernelHostNet.pingGroupRangeKey)) ?? "")
    }

    static let pingGroupRangeKey = "/proc/sys/net/ipv4/ping_group_range"

    /// Sets `range` in the namespace the calling thread is in, when it differs.
    static func setPingGroupRange(_ range: String) throws(SystemError) {
        let current = ((try? Sysctl.read(pingGroupRangeKey)) ?? "").split(whereSeparator: \.isWhitespace).joined(separator: " ")
        if current != range { try Sysctl.write(pingGroupRangeKey, range) }
    }
}
