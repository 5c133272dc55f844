import CNetlinkRoute
import Glibc
import LinuxSystem
import PvDCore
import PvDWire

/// A domain's files under /etc/netns: resolv.conf and nsswitch.conf.
extension KernelHostNet {
    /// Writes `/etc/netns/<namespace>/resolv.conf` when it differs and, with
    /// the first one, `nsswitch.conf` (``DomainEntry`` and `ip netns exec` bind
    /// both over /etc); undone by putting back what was there.
    func writeResolvConf(_ text: String, namespace: String, _ transaction: Transaction) throws(SystemError) {
        let directory = Paths.files(ofNamespace: namespace)
        let old = HostFiles.read("\(directory)/resolv.conf")
        guard old != text else { return }
        try transaction.step(
            "write", "\(directory)/resolv.conf",
            { () throws(SystemError) in
                try HostFiles.writeAtomically(directory: directory, name: "resolv.conf", contents: text)
                if old == nil {
                    try HostFiles.writeAtomically(
                        directory: directory, name: "nsswitch.conf", contents: KernelHostNet.domainNsswitch(from: HostFiles.read("/etc/nsswitch.conf") ?? ""))
                }
            },
            undo: { () throws(SystemError) in
                if let old {
                    try HostFiles.writeAtomically(directory: directory, name: "resolv.conf", contents: old)
                } else {
                    try KernelHostNet.removeNetnsFiles(namespace)
                }
            })
    }

    /// The host's nsswitch.conf (`host`) with `hosts: files dns`, so that inside
    /// a domain no other source (systemd-resolved, mDNS, the host's caches) answers.
    static func domainNsswitch(from host: String) -> String {
        let lines = host.split(separator: "\n")
            .filter { !$0.drop(while: { $0 == " " || $0 == "\t" }).hasPrefix("hosts:") }
        return "# Written by pvdd: the host's, with host names from files and the domain's DNS only.\n"
            + lines.map { $0 + "\n" }.joined() + "hosts: files dns\n"
    }

    /// Removes the domain's files under /etc/netns (and the directory, once empty).
    static func removeNetnsFiles(_ namespace: String) throws(SystemError) {
        let directory = Paths.files(ofNamespace: namespace)
        try HostFiles.remove(directory: directory, name: "nsswitch.conf")
        try HostFiles.remove(directory: directory, name: "resolv.conf")
    }
}
