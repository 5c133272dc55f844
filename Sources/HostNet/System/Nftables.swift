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
                code: .errno(ENOENT))
        }
        let child = try ChildProcess.spawn(program, [script], scratch: "/run")
        let status = try child.waitForExit()
        let errors = child.collect(limit: 4096).errors
        guard status == 0 else {
            let message = String(decoding: errors, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? "exit status \(status)"
            throw SystemError(step: step, object: object, reason: "nft: \(message)")
        }
    }

    /// The names of a family's tables; none when nft is not installed (then
    /// pvd cannot have made any).
    static func tables(family: String) throws(SystemError) -> [String] {
        guard access(program, X_OK) == 0 else { return [] }
        let child = try ChildProcess.spawn(program, ["list", "tables", family], scratch: "/run")
        let status = try child.waitForExit()
        let output = child.collect(limit: 1 << 20).output
        guard status == 0 else { throw SystemError(step: "list nftables tables", object: family, reason: "nft: exit status \(status)") }
        return String(decoding: output, as: UTF8.self).split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ")
            return words.count == 3 && words[0] == "table" && words[1] == Substring(family) ? String(words[2]) : nil
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

/// A base chain of another table than pvd's that drops what is forwarded by
/// default (`hook forward` with `policy drop`: what ufw, Docker and a
/// hand-written ruleset set up). A drop in any base chain is final, so pvd's
/// own table cannot let a domain's traffic through it.
public struct ForwardDropChain: Equatable, Sendable, CustomStringConvertible {
    public var family: String
    public var table: String
    public var chain: String

    public var description: String { "nftables table \(family) \(table) (chain \(chain), policy drop)" }

    /// The chains in `nft list chains` output that drop forwarded IPv6 (or,
    /// with `ipv4`, IPv4) traffic by default.
    public static func parse(_ listing: String, ipv4: Bool = false) -> [ForwardDropChain] {
        var found: [ForwardDropChain] = []
        var table: (family: String, name: String)?
        var chain: String?
        for raw in listing.split(separator: "\n") {
            let words = raw.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == ";" }).map(String.init)
            guard let first = words.first else { continue }
            if first == "table", words.count >= 3 {
                table = (words[1], words[2])
            } else if first == "chain", words.count >= 2 {
                chain = words[1]
            } else if first == "type", let table, let chain, words.contains("hook"),
                let hook = words.firstIndex(of: "hook"), hook + 1 < words.count, words[hook + 1] == "forward",
                let policy = words.firstIndex(of: "policy"), policy + 1 < words.count, words[policy + 1] == "drop",
                table.family == "inet" || table.family == "ip6" || (ipv4 && table.family == "ip"),
                table.name != KernelHostNet.forwardFilterTable, !table.name.hasPrefix("pvd_")  // pvd's own
            {
                found.append(ForwardDropChain(family: table.family, table: table.name, chain: chain))
            }
        }
        return found
    }
}

extension Nftables {
    /// The chains of other tables that drop forwarded traffic by default
    /// (``ForwardDropChain``); none when nft is not installed.
    static func forwardDropChains() throws(SystemError) -> [ForwardDropChain] {
        guard access(program, X_OK) == 0 else { return [] }
        let child = try ChildProcess.spawn(program, ["list", "chains"], scratch: "/run")
        let status = try child.waitForExit()
        let output = child.collect(limit: 1 << 20).output
        guard status == 0 else { throw SystemError(step: "list nftables chains", object: "all", reason: "nft: exit status \(status)") }
        return ForwardDropChain.parse(String(decoding: output, as: UTF8.self))
    }
}

extension KernelHostNet {
    /// The chains of other tables that drop what the host forwards, and so
    /// what domains send through it, by default.
    public func forwardDropChains() throws(SystemError) -> [ForwardDropChain] { try Nftables.forwardDropChains() }
}
