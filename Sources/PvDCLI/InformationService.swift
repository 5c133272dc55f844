import Glibc
import LinuxSystem
import PvDCore
import PvDLab
import PvDWire

/// A PvD's additional information (RFC 8801 §4) served at
/// `https://<PvD ID>/.well-known/pvd` while `pvd announce` runs. The TLS
/// server is OpenSSL's `s_server -HTTP` (a test server: one connection at a
/// time, which is what a lab needs), run in a private directory that holds
/// nothing but `.well-known/pvd`, a complete HTTP response with RFC 8801's
/// media type. The document is checked first: valid, naming this PvD, not
/// expired.
struct InformationService {
    static let openssl = "/usr/bin/openssl"
    /// pvdd reads at most 64 KiB of a document.
    static let documentLimit = 64 * 1024

    let pid: pid_t
    let directory: String

    static func start(_ server: RouterAnnouncement.InformationServer, for id: DomainName, on interface: String) throws -> InformationService {
        guard let text = HostFiles.read(server.file, limit: documentLimit + 1) else {
            throw CommandFailure("cannot read the additional information \(server.file)")
        }
        let document = Array(text.utf8)
        guard document.count <= documentLimit else { throw CommandFailure("\(server.file) is over 64 KiB") }
        do {
            let information = try PvDAdditionalInformation.parse(document)
            guard information.identifier == id else {
                throw CommandFailure("\(server.file) is for \(information.identifier), not for \(id)")
            }
            guard information.expires > SystemClock.unixTime else {
                throw CommandFailure("\(server.file) expired at \(RFC3339.format(information.expires))")
            }
        } catch let error as AdditionalInformationError {
            throw CommandFailure("\(server.file): \(error)")
        }
        // One directory per namespace, interface and PvD, used again after a
        // crash; `pvd lab down` removes its namespaces' (Paths.announcements).
        let directory = "\(Paths.announcements)/\(interface)/\(Namespaces.inode("/proc/self/ns/net") ?? 0)-\(id)"
        let response =
            "HTTP/1.0 200 OK\r\nContent-Type: application/pvd+json\r\nContent-Length: \(document.count)\r\nCache-Control: no-cache\r\n\r\n"
            + text
        let listen = server.address.map { "[\($0)]:443" } ?? "[::]:443"
        let log = directory + "/server.log"
        let pid: pid_t
        do {
            try HostFiles.makeDirectories(directory + "/www/.well-known")
            try HostFiles.writeAtomically(directory: directory + "/www/.well-known", name: "pvd", contents: response)
            // s_server runs in the directory it serves: the certificate and key by their full paths.
            pid = try ChildProcess.spawnLogging(
                openssl, ["s_server", "-HTTP", "-accept", listen, "-cert", try absolute(server.certificate), "-key", try absolute(server.key)],
                log: log, directory: directory + "/www")
        } catch {
            remove(directory)
            throw CommandFailure("cannot start the information server for \(id): \(error)")
        }
        let service = InformationService(pid: pid, directory: directory)
        // s_server says ACCEPT once it listens; it ends at once on a bad
        // certificate or an address it cannot bind.
        switch ChildProcess.wait(for: pid, timeout: 5, until: { HostFiles.read(log)?.contains(text: "ACCEPT") == true }) {
        case .ready:
            return service
        case .exited:
            let reason = HostFiles.readTail(log, bytes: 2000) ?? ""
            remove(directory)
            throw CommandFailure("the information server for \(id) on \(listen) did not start: \(reason)")
        case .timedOut:
            service.stop()
            throw CommandFailure("the information server for \(id) on \(listen) did not start within 5 s")
        }
    }

    /// Stops the server and removes its directory.
    func stop() {
        kill(pid, SIGTERM)
        _ = try? ChildProcess.wait(pid)
        InformationService.remove(directory)
    }

    private static func absolute(_ path: String) throws -> String {
        guard let resolved = realpath(path, nil) else { throw CommandFailure(systemError("read", path).description) }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Removes what `start` wrote (its own names only).
    private static func remove(_ directory: String) {
        for path in ["/www/.well-known/pvd", "/server.log"] { unlink(directory + path) }
        for path in ["/www/.well-known", "/www", ""] { rmdir(directory + path) }
        // The interface's directory and /run/pvd-announce, when no other server uses them.
        let interfaceDirectory = String(directory[..<(directory.lastIndex(of: "/") ?? directory.endIndex)])
        rmdir(interfaceDirectory)
        rmdir(Paths.announcements)
    }
}
