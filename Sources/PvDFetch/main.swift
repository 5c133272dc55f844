// pvd-fetch DOMAIN URL [CA-FILE]: pvdd's helper for RFC 8801 additional
// information. It enters the domain (network namespace, the domain's
// resolv.conf, the host's resolvers hidden), becomes `nobody`, limits what it
// may write to 64 KiB, and runs curl: HTTPS only, certificate checked against
// the host name (against CA-FILE instead of the system's CAs when given), at
// most 10 s. stdout: the body. stderr: curl's error, then `HTTP <status>`.
// Kept apart from pvdd so that the TLS client never runs as root or in the
// daemon's namespaces, and a hang or crash in it costs one fetch.
import Glibc
import LinuxSystem
import PvDExec

/// Writes one line to stderr and ends with `status`.
func fail(_ message: String, _ status: Int32) -> Never {
    var line = "pvd-fetch: \(message)\n"
    line.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    exit(status)
}

let arguments = CommandLine.arguments
guard arguments.count == 3 || arguments.count == 4 else {
    fail("usage: pvd-fetch DOMAIN URL [CA-FILE]", 2)
}
let curl = "/usr/bin/curl"
let nobody: uid_t = 65534
let documentLimit: rlim_t = 64 * 1024

do {
    try DomainEntry.enter(domain: arguments[1])
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
if arguments.count == 4 { curlArguments += ["--cacert", arguments[3]] }
curlArguments += ["--", arguments[2]]
let argv = curlArguments.map { strdup($0) } + [nil]
execve(curl, argv, [strdup("PATH=/usr/bin:/bin"), nil])
fail(systemError("run", curl).description, 4)
