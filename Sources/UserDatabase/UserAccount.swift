import Glibc

/// An account in the system's user database (getpwuid_r and friends).
public struct UserAccount: Equatable, Sendable {
    public var name: String
    public var uid: uid_t
    /// The primary group.
    public var gid: gid_t
    public var home: String
    /// The login shell (/bin/sh when the database names none).
    public var shell: String

    /// The account of `uid`; nil when the database has none.
    public init?(uid: uid_t) {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        name = String(cString: entry.pw_name)
        self.uid = uid
        gid = entry.pw_gid
        home = String(cString: entry.pw_dir)
        let shell = String(cString: entry.pw_shell)
        self.shell = shell.isEmpty ? "/bin/sh" : shell
    }

    /// The ids of the groups the account is in, the primary one included.
    public func groupIDs() -> [gid_t] {
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(name, gid, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
            _ = getgrouplist(name, gid, &groups, &count)
        }
        return Array(groups.prefix(Int(max(0, count))))
    }

    /// The names of the groups the account is in, the primary one included.
    public func groupNames() -> [String] {
        groupIDs().compactMap { gid in
            var group = group()
            var found: UnsafeMutablePointer<group>?
            var text = [CChar](repeating: 0, count: 16384)
            guard getgrgid_r(gid, &group, &text, text.count, &found) == 0, found != nil else { return nil }
            return String(cString: group.gr_name)
        }
    }
}
