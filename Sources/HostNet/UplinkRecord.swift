import Glibc
import PvDCore

/// What HostNet changed on one uplink, so it can put it back: the original
/// value of each sysctl it set, and the domains using the uplink. When the last
/// of them is removed, the sysctls get their old values and the record goes.
///
/// Kept in /run/pvd/uplinks/<network namespace inode>-<uplink>, one
/// `sysctl <path> <value>` or `domain <name>` per line: it survives a daemon
/// restart, not a reboot (when the sysctls are back to their defaults anyway).
struct UplinkRecord: Equatable {
    static let directory = "/run/pvd/uplinks"

    var originals: [String: String] = [:]
    var domains: Set<String> = []

    /// The record's file name for `uplink` in the calling thread's namespace.
    static func fileName(_ uplink: String) throws(HostNetError) -> String {
        var info = stat()
        guard stat("/proc/thread-self/ns/net", &info) == 0 else { throw systemError("identify namespace", "/proc/thread-self/ns/net") }
        return "\(info.st_ino)-\(uplink)"
    }

    static func load(_ uplink: String) throws(HostNetError) -> UplinkRecord {
        var record = UplinkRecord()
        guard let text = HostFiles.read("\(directory)/\(try fileName(uplink))") else { return record }
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ", maxSplits: 2)
            if words.count == 3, words[0] == "sysctl" { record.originals[String(words[1])] = String(words[2]) }
            if words.count == 2, words[0] == "domain" { record.domains.insert(String(words[1])) }
        }
        return record
    }

    /// Writes the record, or removes its file when it holds nothing.
    func save(_ uplink: String) throws(HostNetError) {
        let name = try UplinkRecord.fileName(uplink)
        guard !domains.isEmpty || !originals.isEmpty else {
            try HostFiles.remove(directory: UplinkRecord.directory, name: name)
            return
        }
        var text = ""
        for (path, value) in originals.sorted(by: { $0.key < $1.key }) { text += "sysctl \(path) \(value)\n" }
        for domain in domains.sorted() { text += "domain \(domain)\n" }
        try HostFiles.writeAtomically(directory: UplinkRecord.directory, name: name, contents: text)
    }
}
