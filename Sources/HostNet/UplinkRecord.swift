import Glibc
import LinuxSystem
import PvDCore

/// What HostNet changed on one uplink, so that it can put it back: the
/// original value of each sysctl it set, and which domains use the uplink.
/// When the last of them is removed, the sysctls get their old values back.
/// The host record is the same for what routed domains change host-wide
/// (every interface's `accept_ra`, `all.forwarding`).
///
/// Kept under /run/pvd/uplinks/<network namespace inode>-<uplink>/ (the host
/// record: /run/pvd/host/<inode>/): a file `sysctls` (`<path> <value>`
/// lines) and an empty file per domain in `domains/`, so adding or removing a
/// domain costs the same with 500 others. It survives a daemon restart, not
/// a reboot (the sysctls reset anyway).
struct UplinkRecord {
    static let root = Paths.runtime + "/uplinks"
    /// The separate record of what IPv4 NAT changed, whose users are the
    /// domains with IPv4: restored when the last of them goes.
    static let ipv4Root = Paths.runtime + "/uplinks-ipv4"
    static let hostRoot = Paths.runtime + "/host"
    let directory: String

    /// The record of `uplink` in the calling thread's network namespace.
    init(_ uplink: String, root: String = UplinkRecord.root) throws(SystemError) {
        directory = "\(root)/\(try UplinkRecord.namespaceInode())-\(uplink)"
    }

    private init(directory: String) {
        self.directory = directory
    }

    /// The host record of the calling thread's network namespace.
    static func host() throws(SystemError) -> UplinkRecord {
        UplinkRecord(directory: "\(hostRoot)/\(try namespaceInode())")
    }

    /// The uplinks of the calling thread's namespace that domains use now.
    static func uplinksInUse() throws(SystemError) -> [String] {
        let prefix = "\(try namespaceInode())-"
        return HostFiles.entries(of: root).filter { $0.hasPrefix(prefix) }
            .filter { UplinkRecord(directory: "\(root)/\($0)").hasUsers() }
            .map { String($0.dropFirst(prefix.count)) }.sorted()
    }

    private static func namespaceInode() throws(SystemError) -> UInt {
        UInt(try Namespaces.ownInode())
    }

    /// The saved original values, by sysctl path.
    func originals() -> [String: String] {
        var values: [String: String] = [:]
        for line in (HostFiles.read("\(directory)/sysctls") ?? "").split(separator: "\n") {
            let words = line.split(separator: " ", maxSplits: 1)
            if words.count == 2 { values[String(words[0])] = String(words[1]) }
        }
        return values
    }

    func saveOriginals(_ values: [String: String]) throws(SystemError) {
        guard !values.isEmpty else {
            try HostFiles.remove(directory: directory, name: "sysctls")
            return
        }
        let text = values.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)\n" }.joined()
        try HostFiles.writeAtomically(directory: directory, name: "sysctls", contents: text)
    }

    func uses(_ domain: String) -> Bool { access("\(directory)/domains/\(domain)", F_OK) == 0 }

    func addUser(_ domain: String) throws(SystemError) {
        try HostFiles.writeAtomically(directory: "\(directory)/domains", name: domain, contents: "")
    }

    func removeUser(_ domain: String) throws(SystemError) {
        try HostFiles.remove(directory: "\(directory)/domains", name: domain)
    }

    /// Whether any domain still uses the uplink.
    func hasUsers() -> Bool {
        !HostFiles.entries(of: "\(directory)/domains").isEmpty
    }

    /// Removes the record's files and directory (after the sysctls are restored).
    func delete() throws(SystemError) {
        try HostFiles.remove(directory: directory, name: "sysctls")
    }
}
