import Glibc
import LinuxSystem
import PvDCore

/// nftables through Debian's `nft` program: pvd's NAT and forward filter for
/// a domain's IPv4 live in one `ip` table per domain, replaced or deleted as a
/// whole in one nft transaction. (libnftnl is not among pvd's C libraries;
/// `nft` is a runtime package, like curl.)
enum Nftables {
    static let program = "/usr/sbin/nft"

    /// Runs `script` (nft commands, one per line) as one transaction.
    static func run(_ script: String, step: String, object: String) throws(SystemError) {
        guard access(program, X_OK) == 0 else {
            throw SystemError(
                step: step, object: object, reason: "\(program) is missing: install Debian's nftables package",
                code: ENOENT)
        }
        let child = try ChildProcess.spawn(program, [script], scratch: "/run")
        let status = try child.waitForExit()
        let errors = child.collect(limit: 4096).errors
        guard status == 0 else {
            let message = String(decoding: errors, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? "exit status \(status)"
            throw SystemError(step: step, object: object, reason: "nft: \(message)")
        }
    }

    /// The names of the `ip` family's tables; none when nft is not installed
    /// (then pvd cannot have made any).
    static func ipTables() throws(SystemError) -> [String] {
        guard access(program, X_OK) == 0 else { return [] }
        let child = try ChildProcess.spawn(program, ["list", "tables", "ip"], scratch: "/run")
        let status = try child.waitForExit()
        let output = child.collect(limit: 1 << 20).output
        guard status == 0 else { throw SystemError(step: "list nftables tables", object: "ip", reason: "nft: exit status \(status)") }
        return String(decoding: output, as: UTF8.self).split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ")
            return words.count == 3 && words[0] == "table" && words[1] == "ip" ? String(words[2]) : nil
        }
    }

    /// Whether `name` can stand in an nft rule between quotes as it is.
    static func isPlainInterfaceName(_ name: String) -> Bool {
        !name.isEmpty
            && name.utf8.allSatisfy { byte in
                (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || "._-@".utf8.contains(byte)
            }
    }
}
