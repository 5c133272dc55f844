import Glibc
import LinuxSystem
import PvDCore

/// `pvd fetch-information DOMAIN URL [CA-FILE]`: pvdd's helper for RFC 8801
/// additional information, run by root only. It enters the domain (network
/// namespace, the domain's resolv.conf, the host's resolvers hidden),
/// becomes `nobody`, limits what it may write to 64 KiB, and runs curl:
/// HTTPS only, certificate checked against the host name (against CA-FILE
/// instead of the system's CAs when given), at most 10 s. stdout: the body.
/// stderr: curl's error, then `HTTP <status>`. A child of pvdd, so that the
/// TLS client never runs as root or in the daemon's namespaces, and a hang
/// or crash in it costs one fetch; part of the static `pvd` rather than a
/// program of its own, so that the package carries one copy of the Swift
/// runtime less.
public enum InformationFetch {
    /// Fetches when `argv` is `pvd fetch-information …` (``Paths/fetchInformationCommand``),
    /// and then never returns; returns at once otherwise.
    public static func runIfAsked(_ argv: [String]) {
        guard argv.count > 1, argv[1] == Paths.fetchInformationCommand else { return }
        run(Array(argv.dropFirst(2)))
    }

    /// Fetches as `arguments` (DOMAIN URL [CA-FILE]) say; never returns.
    private static func run(_ arguments: [String]) -> Never {
        // pvd carries file capabilities: this is pvdd's, never a user's.
        guard getuid() == 0 else { fail("\(Paths.fetchInformationCommand) is pvdd's helper; it runs as root only", 2) }
        guard arguments.count == 2 || arguments.count == 3 else { fail("usage: pvd \(Paths.fetchInformationCommand) DOMAIN URL [CA-FILE]", 2) }
        let curl = "/usr/bin/curl"
        let nobody: uid_t = 65534
        let documentLimit: rlim_t = 64 * 1024
        do {
            try DomainEntry.enter(domain: arguments[0])
            try DomainEntry.dropPrivileges(uid: nobody, gid: gid_t(nobody))
        } catch {
            fail("\(error)", 3)
        }
        var fileSize = rlimit(rlim_cur: documentLimit, rlim_max: documentLimit)
        setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &fileSize)
        var curlArguments = [
            curl, "--silent", "--show-error", "--proto", "=https", "--proto-redir", "=https",
            "--location", "--max-redirs", "3", "--max-time", "10",
            "--header", "Accept: application/pvd+json", "--output", "-",
            "--write-out", "%{stderr}HTTP %{http_code}\\n",
        ]
        if arguments.count == 3 { curlArguments += ["--cacert", arguments[2]] }
        curlArguments += ["--", arguments[1]]
        let argv = curlArguments.map { strdup($0) } + [nil]
        execve(curl, argv, [strdup("PATH=/usr/bin:/bin"), nil])
        fail(systemError("run", curl).description, 4)
    }

    /// Writes one line to stderr and ends with `status`.
    private static func fail(_ message: String, _ status: Int32) -> Never {
        writeStandardError("pvd \(Paths.fetchInformationCommand): \(message)\n")
        exit(status)
    }
}
