import Glibc

/// pvd's programs find each other in the directory they are installed in.
public enum Programs {
    /// The running program's own file, as it was when the program started
    /// (read once, on first use: pvdd asks at start). A package upgrade
    /// replaces the file while the program runs, and `/proc/self/exe` then
    /// reads "PATH (deleted)"; the path itself stays right, since the new
    /// program is installed at it.
    public static let ownPath: String? = {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = buffer.withUnsafeMutableBytes { readlink("/proc/self/exe", $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count - 1) }
        guard count > 0 else { return nil }
        let path = String(decoding: buffer.prefix(count), as: UTF8.self)
        let deleted = " (deleted)"
        return path.hasSuffix(deleted) ? String(path.dropLast(deleted.count)) : path
    }()

    /// Whether `path` can stand in a command line that a shell or OpenVPN
    /// splits into words without quoting: letters, digits and `/._+-` only.
    public static func isPlainPath(_ path: String) -> Bool {
        path.hasPrefix("/")
            && path.utf8.allSatisfy { byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || "/._+-".utf8.contains(byte)
            }
    }

    /// pvd's program `name`: beside the running one (a build directory), or
    /// where the package and scripts/install put it — PREFIX/bin/pvd,
    /// PREFIX/sbin/pvdd and PREFIX/libexec/pvd/pvd-cli. Nil when
    /// there is none.
    public static func find(_ name: String) -> String? {
        guard let own = ownPath, let slash = own.lastIndex(of: "/") else { return nil }
        let directory = String(own[..<slash])
        let helpers = "/libexec/pvd"
        let prefix =
            directory.hasSuffix(helpers)
            ? String(directory.dropLast(helpers.count)) : String(directory[..<(directory.lastIndex(of: "/") ?? directory.startIndex)])
        let candidates = ["\(directory)/\(name)", "\(prefix)\(helpers)/\(name)", "\(prefix)/bin/\(name)", "\(prefix)/sbin/\(name)"]
        return candidates.first { access($0, X_OK) == 0 }
    }

    /// Becomes pvd's program `name` (``find(_:)``) with `argv`; when it
    /// cannot, says why and exits with 127.
    public static func exec(_ name: String, argv: [String]) -> Never {
        let program = find(name) ?? name
        execv(program, argv.map { strdup($0) } + [nil])
        printError(systemError("run", program).description)
        exit(127)
    }
}

/// Writes `pvd: MESSAGE` as one line to stderr.
public func printError(_ message: String) {
    writeStandardError("pvd: \(message)\n")
}

/// Writes `text` to stderr as it is, in one write (a line stays whole in a
/// log others append to).
public func writeStandardError(_ text: String) {
    var text = text
    text.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
}
