import Glibc
import LinuxSystem
import PvDCore

/// Which domains belong to the calling thread's network namespace (the
/// daemon's "host" namespace): a file per domain under
/// /run/pvd/domains/<network namespace inode>/ holding its uplink's name. Namespaces live in the
/// machine-wide /run/netns, so this is what keeps one HostNet (or a test)
/// from reading or removing another's domains. A domain is registered before
/// anything is made for it, so the leftovers of an interrupted apply are found.
struct DomainRegistry {
    static let root = Paths.runtime + "/domains"
    let directory: String

    init() throws(SystemError) {
        directory = "\(DomainRegistry.root)/\(try Namespaces.ownInode())"
    }

    func contains(_ name: String) -> Bool { access("\(directory)/\(name)", F_OK) == 0 }

    func add(_ name: String, uplink: String) throws(SystemError) {
        try HostFiles.writeAtomically(directory: directory, name: name, contents: uplink)
    }

    /// The uplink the domain was registered on (kept even when the domain's
    /// routing table is empty, so its uplink can be released on removal).
    func uplink(of name: String) -> String? {
        HostFiles.read("\(directory)/\(name)")
    }

    func remove(_ name: String) throws(SystemError) {
        try HostFiles.remove(directory: directory, name: name)
    }

    /// The registered names, sorted (dot files are writes in progress).
    func names() -> [String] {
        HostFiles.entries(of: directory).filter { !$0.hasPrefix(".") }.sorted()
    }
}
