import Glibc
import PvDCore

/// Named namespaces that are not domains, for the D-Bus API: the daemon's
/// own (published as `rootns` for the PvD-aware NetworkManager fork) and
/// bare ones made on request.
extension KernelHostNet {
    /// Publishes the calling thread's network namespace as /run/netns/NAME,
    /// as `ip netns attach NAME <pid>` does. Refuses a name already there.
    public static func publishOwnNamespace(as name: String) throws(HostNetError) {
        guard !Namespaces.exists(name) else {
            throw HostNetError(step: "publish namespace", object: Namespaces.path(name), reason: "it exists already", code: EEXIST)
        }
        try Namespaces.attach(name, source: "/proc/thread-self/ns/net")
    }

    /// A new namespace /run/netns/NAME with `lo` up and nothing else.
    public static func createBareNamespace(_ name: String) throws(HostNetError) {
        guard !Namespaces.exists(name) else {
            throw HostNetError(step: "create namespace", object: Namespaces.path(name), reason: "it exists already", code: EEXIST)
        }
        try Namespaces.create(name)
        do {
            let fd = try Namespaces.openDescriptor(name)
            defer { close(fd) }
            try Namespaces.run(in: fd, name: name) { () throws(HostNetError) in
                try NetlinkSocket(namespace: name).setLink("lo", up: true)
            }
        } catch {
            try? Namespaces.delete(name)
            throw error
        }
    }

    /// Unmounts and removes /run/netns/NAME.
    public static func deleteNamespace(_ name: String) throws(HostNetError) {
        try Namespaces.delete(name)
    }

    public static func namespaceExists(_ name: String) -> Bool { Namespaces.exists(name) }

    /// A descriptor of /run/netns/NAME (close-on-exec), to hand to a client.
    public static func openNamespace(_ name: String) throws(HostNetError) -> Int32 {
        try Namespaces.openDescriptor(name)
    }
}
