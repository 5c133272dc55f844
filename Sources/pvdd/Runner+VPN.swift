import BusWire
import Glibc
import HostNet
import LinuxSystem
import PvDCore

/// VPN domains (docs/design.md, "A domain on the host"): pvdd runs each
/// domain's client in its own namespace, so the client's socket uses the
/// host's uplinks, and the client's tunnel is moved into the domain with its
/// addresses, routes and DNS — by `pvdd vpn-hook` (OpenVPN's `--up`, and any
/// client that can call a script) or by `pvdd wireguard-up` (WireGuard). The
/// tunnel is the domain's only way out. The catalog keeps each domain's
/// entry; this is the clients' side.
extension Runner {
    static let openVPN = "/usr/sbin/openvpn"
    static let wireGuardGo = "/usr/bin/wireguard-go"
    static let wg = "/usr/bin/wg"
    static let openConnect = "/usr/sbin/openconnect"
    /// Seconds before a client that exited is started again: 5, doubled
    /// after each run shorter than a minute, at most 5 minutes.
    static func vpnRestartDelay(afterShortRuns count: Int) -> Double { min(300, 5 * Double(1 << min(max(count, 0), 6))) }
    /// After this many short runs in a row the domain is `failed` (and still retried).
    static let failedAfterShortRuns = 2

    /// A client's log is moved to `.log.1` when it has grown past this at a (re)start.
    static let clientLogLimit = 1 << 20

    /// The client's log beside the state file (`openvpn-NAME.log`, `wireguard-NAME.log`), appended to.
    func clientLog(_ name: String) -> String { "\(stateDirectory)/\(catalog.vpns[name]?.client.rawValue ?? "vpn")-\(name).log" }
    /// OpenVPN's management socket, which only root may use.
    func managementSocket(_ name: String) -> String { "\(stateDirectory)/openvpn-\(name).sock" }

    /// Checks a VPN domain's configuration before anything is made: the
    /// program is installed; the file is root's, writable by nobody else and,
    /// as it holds keys, readable by nobody else; the text is a client
    /// configuration that authenticates and encrypts (docs/guide.md, "VPN
    /// domains"); the files it names that hold secrets are root's and private.
    func checkVPN(_ vpn: DeclarativeState.VPN) throws(BusError) {
        let field = "\(vpn.client.rawValue): \(vpn.config)"
        func refuse(_ reason: String) -> BusError { BusError(PvDBusAPI.ErrorName.invalidArguments, "\(field): \(reason)") }
        /// A root's file the configuration stands on: its bytes, or why it will not do.
        func read(_ path: String, _ what: String, secret: Bool, limit: Int = OpenVPNConfiguration.maximumBytes) throws(BusError) -> [UInt8] {
            let bytes: [UInt8]?
            do { bytes = try HostFiles.readOwnFile(path, limit: limit, secret: secret) } catch { throw refuse("\(what): \(error.reason)") }
            guard let bytes else { throw refuse("\(what) does not exist") }
            return bytes
        }
        let programs: [(String, String)] =
            switch vpn.client {
            case .openVPN: [(Runner.openVPN, "openvpn")]
            case .wireGuard: [(Runner.wg, "wireguard-tools")] + (KernelHostNet.hasWireGuardModule ? [] : [(Runner.wireGuardGo, "wireguard-go")])
            case .openConnect: [(Runner.openConnect, "openconnect")]
            case .command: []
            }
        for (program, package) in programs where access(program, X_OK) != 0 {
            throw BusError(PvDBusAPI.ErrorName.failed, "\(program) is missing: install Debian's \(package) package")
        }
        switch vpn.client {
        case .openConnect:
            for key in ["certificate"] + OpenConnectSettings.secretKeys {
                if let path = vpn.options[key] { _ = try read(path, "\(key) \(path)", secret: key != "certificate") }
            }
        case .command:
            // A program run as root: root's, writable by nobody else, executable.
            guard vpn.config.hasPrefix("/") else { throw refuse("not an absolute path") }
            _ = try read(vpn.config, "the program", secret: false, limit: 64 << 20)
            guard access(vpn.config, X_OK) == 0 else { throw refuse("not executable") }
        case .wireGuard:
            guard vpn.config.hasPrefix("/") else { throw refuse("not an absolute path") }
            let text = String(decoding: try read(vpn.config, "the file", secret: true), as: UTF8.self)
            do { _ = try WireGuardConfiguration(text).tunnelSettings(device: "check") } catch { throw refuse(error.description) }
        case .openVPN:
            guard vpn.config.hasPrefix("/") else { throw refuse("not an absolute path") }
            let text = String(decoding: try read(vpn.config, "the file", secret: false), as: UTF8.self)
            let summary: OpenVPNConfiguration.Summary
            do { summary = try OpenVPNConfiguration.check(text) } catch { throw refuse(error.description) }
            if summary.holdsSecrets { _ = try read(vpn.config, "the file, which holds keys,", secret: true) }
            let directory = String(vpn.config[..<vpn.config.lastIndex(of: "/")!])
            for file in summary.secretFiles {
                let path = file.hasPrefix("/") ? file : "\(directory)/\(file)"
                _ = try read(path, "\(path), which it names,", secret: true)
            }
        }
    }

    /// Starts the domain's client; its output goes to its log.
    func startClient(_ name: String) throws(BusError) {
        guard let vpn = catalog.vpns[name] else { return }
        do {
            try HostFiles.makeDirectories(stateDirectory)
            HostFiles.rotate(clientLog(name), above: Runner.clientLogLimit)
            let own = try Runner.ownProgram()
            // What the last client said is not this one's state.
            unlink(statusFile(name, vpn.client))
            let pid: pid_t
            switch vpn.client {
            case .openVPN:
                let directory = String(vpn.config[..<vpn.config.lastIndex(of: "/")!])
                unlink(managementSocket(name))
                pid = try launcher.spawnLogging(
                    Runner.openVPN,
                    [
                        "--cd", directory, "--config", vpn.config, "--dev", try KernelHostNet.tunnelDevice(for: name), "--dev-type", "tun",
                        "--ifconfig-noexec", "--route-noexec", "--script-security", "2", "--up", "\(own) vpn-hook", "--up-restart",
                        "--setenv", "PVD_DOMAIN", name, "--management", managementSocket(name), "unix",
                        "--management-client-user", "root", "--management-client-group", "root", "--verb", "3",
                    ], log: clientLog(name))
                management[name] = ManagementConnection(path: managementSocket(name), nextAttempt: loop.now + 0.1)
            case .wireGuard:
                pid = try launcher.spawnLogging(own, ["wireguard-up", name, vpn.config, stateDirectory], log: clientLog(name))
            case .openConnect:
                pid = try launcher.spawnLogging(
                    Runner.openConnect,
                    ["--interface", try KernelHostNet.tunnelDevice(for: name), "--script", "'\(own)' vpn-hook"]
                        + OpenConnectSettings.arguments(server: vpn.config, options: vpn.options),
                    log: clientLog(name), input: OpenConnectSettings.stdinFile(vpn.options) ?? "/dev/null",
                    environment: ["PVD_DOMAIN": name, "PVD_STATE_DIRECTORY": stateDirectory])
            case .command:
                pid = try launcher.spawnLogging(
                    vpn.config, [], log: clientLog(name),
                    environment: [
                        "PVD_DOMAIN": name, "PVD_STATE_DIRECTORY": stateDirectory, "PVD_TUNNEL_DEVICE": try KernelHostNet.tunnelDevice(for: name),
                        "PVD_HOOK": "\(own) vpn-hook",
                    ])
            }
            try loop.onExit(of: pid) { [unowned self] status in self.clientExited(name, pid: pid, status: "status \(status)") }
            catalog.vpns[name]?.pid = pid
            catalog.vpns[name]?.startedAt = loop.now
            catalog.vpns[name]?.tunnel = TunnelStatus()
        } catch {
            catalog.vpns[name]?.failure = "the \(vpn.client.rawValue) client cannot start: \(error)"
            throw BusError(PvDBusAPI.ErrorName.failed, "cannot start \(vpn.client.rawValue) for \(name): \(error)")
        }
        rearm(at: loop.now)
    }

    /// A client ended: it starts again after a delay that grows with each
    /// short run. A client that never connected and says why (OpenVPN's
    /// "Options error", a refused certificate) makes the domain `failed` with
    /// its words at once; others after a few short runs in a row.
    private func clientExited(_ name: String, pid: pid_t, status: String) {
        guard var vpn = catalog.vpns[name], vpn.pid == pid else { return }
        closeManagement(name)
        let now = loop.now
        let neverConnected = vpn.tunnel.map { $0.phase == .connecting } ?? true
        vpn.pid = nil
        vpn.shortRuns = now - vpn.startedAt < 60 ? vpn.shortRuns + 1 : 0
        let delay = Runner.vpnRestartDelay(afterShortRuns: vpn.shortRuns - 1)
        vpn.restartAt = now + delay
        let complaint = vpn.tunnel?.fatal ?? Runner.lastComplaint(inLog: clientLog(name))
        if neverConnected, now - vpn.startedAt < 10, let complaint {
            vpn.failure = "\(vpn.client.rawValue) stopped: \(complaint); pvdd tries again in \(Int(delay)) s (\(clientLog(name)))"
        } else if vpn.shortRuns >= Runner.failedAfterShortRuns {
            vpn.failure =
                "\(vpn.client.rawValue) exited (\(status)) \(vpn.shortRuns) times in a row within a minute of starting; "
                + "its reason is in \(clientLog(name)); pvdd tries again in \(Int(delay)) s"
        }
        vpn.tunnel = nil
        unlink(statusFile(name, vpn.client))
        do { try host.detachTunnel(from: name) } catch { logger.error("domain \(name): \(error)") }
        catalog.vpns[name] = vpn
        logger.warning("domain \(name): \(vpn.client.rawValue) exited (\(status)), starting it again in \(Int(delay)) s; see \(clientLog(name))")
        saveState()
        bus?.announce([name])
        rearm(at: now)
    }

    /// The client's last complaint in its log: OpenVPN's "Options error" or
    /// last "ERROR" line, or the helper's last line; nil when there is none.
    static func lastComplaint(inLog path: String) -> String? {
        guard let text = HostFiles.readTail(path, bytes: 8192) else { return nil }
        let lines = text.split(separator: "\n").map(String.init)
        let line =
            lines.last { $0.contains(text: "Options error:") } ?? lines.last { $0.contains(text: "ERROR:") || $0.contains(text: "Cannot") }
            ?? lines.last { $0.hasPrefix("pvdd ") }
        return line.map { String($0.prefix(300)) }
    }

    /// Starts again the clients whose restart time has come.
    func restartDueVPNs(at now: Double) {
        for (name, vpn) in catalog.vpns.sorted(by: { $0.key < $1.key }) where (vpn.restartAt ?? .infinity) <= now {
            catalog.vpns[name]?.restartAt = nil
            do { try startClient(name) } catch {
                logger.error("domain \(name): \(error)")
                catalog.vpns[name]?.restartAt = now + Runner.vpnRestartDelay(afterShortRuns: 6)
            }
            saveState()
        }
    }

    /// Whether `pid` is the client pvdd started for `domain` (its command
    /// line says so): a pid from the state file is never trusted.
    static func isOwnClient(_ pid: pid_t, domain: String) -> Bool {
        guard let cmdline = HostFiles.read("/proc/\(pid)/cmdline") else { return false }
        let words = cmdline.split(separator: "\0", omittingEmptySubsequences: false).map(String.init)
        if words.first == Runner.openVPN {
            return zip(words, zip(words.dropFirst(), words.dropFirst(2))).contains { $0 == "--setenv" && $1.0 == "PVD_DOMAIN" && $1.1 == domain }
        }
        if words.count > 2, words[0].hasSuffix("/pvdd"), words[1] == "wireguard-up" { return words[2] == domain }
        // OpenConnect and other tunnel programs: pvdd gave them PVD_DOMAIN (only root reads another process's environment).
        let environment = (HostFiles.read("/proc/\(pid)/environ") ?? "").split(separator: "\0")
        return environment.contains { $0 == "PVD_DOMAIN=\(domain)" }
    }

    /// A saved VPN domain: a client still running from before is kept (its
    /// tunnel and the programs using it are not disturbed) and watched again;
    /// otherwise a new one starts.
    func resumeVPN(_ name: String) {
        if let pid = catalog.vpns[name]?.pid, Runner.isOwnClient(pid, domain: name) {
            do {
                let watched = try loop.onExit(ofAdopted: pid) { [unowned self] in self.clientExited(name, pid: pid, status: "adopted") }
                if watched {
                    logger.info("domain \(name): client \(pid) still runs; keeping it")
                    catalog.vpns[name]?.tunnel = TunnelStatus()
                    if catalog.vpns[name]?.client == .openVPN {
                        management[name] = ManagementConnection(path: managementSocket(name), nextAttempt: loop.now)
                    }
                    return
                }
            } catch {
                logger.error("domain \(name): \(error)")
            }
        }
        catalog.vpns[name]?.pid = nil
        do {
            try host.createTunnelDomain(name)
            try startClient(name)
        } catch {
            logger.error("domain \(name): \(error)")
        }
    }

    /// Stops every client pvdd started (for `pvdd --cleanup`).
    static func stopClients(_ vpns: [String: VPNEntry]) {
        for (name, vpn) in vpns.sorted(by: { $0.key < $1.key }) {
            if let pid = vpn.pid, isOwnClient(pid, domain: name) { kill(pid, SIGTERM) }
        }
    }

    /// What the API shows of a VPN domain's tunnel: OpenVPN's from its
    /// management interface; WireGuard's handshake and OpenConnect's
    /// connection from the status file their helper writes for the running
    /// client, read when asked, with the bytes the tunnel device counted.
    func tunnelStatus(of name: String, device: TunnelReadback?) -> TunnelStatus? {
        guard let vpn = catalog.vpns[name], vpn.pid != nil else { return nil }
        let status = HostFiles.read(statusFile(name, vpn.client)) ?? ""
        switch vpn.client {
        case .openVPN: return vpn.tunnel
        case .wireGuard: return TunnelStatus(wireGuardStatus: status, now: SystemClock.unixTime)
        case .openConnect, .command:
            var tunnel = TunnelStatus(hookStatus: status)
            if let device {
                tunnel.bytesIn = device.bytesIn
                tunnel.bytesOut = device.bytesOut
            }
            return tunnel
        }
    }

    /// The status file a helper writes for the domain's running client
    /// (removed when a client starts and when it ends).
    func statusFile(_ name: String, _ client: VPNClient) -> String { "\(stateDirectory)/\(client.rawValue)-\(name).status" }

    /// The command line VPN clients run as their hook, `PATH vpn-hook`:
    /// pvdd's installed path, read when pvdd started (an upgrade replaces
    /// the file at that path). OpenVPN splits the line into words itself,
    /// so a path that would need quoting is refused.
    static func ownProgram() throws(SystemError) -> String {
        let own = Programs.ownPath ?? "/usr/sbin/pvdd"
        guard Programs.isPlainPath(own) else {
            throw SystemError(step: "name the VPN hook", object: own, reason: "pvdd's path holds characters a command line would have to quote")
        }
        return own
    }
}

/// pvdd's connection to one OpenVPN client's management interface: real-time
/// state and byte counts, read on the event loop.
final class ManagementConnection {
    let path: String
    /// The socket, once connected.
    var socket: FileDescriptor?
    var watch: ObjectIdentifier?
    var buffer: [UInt8] = []
    /// When to try connecting (the client makes the socket shortly after it starts); nil once connected.
    var nextAttempt: Double?

    init(path: String, nextAttempt: Double) {
        self.path = path
        self.nextAttempt = nextAttempt
    }
}

extension Runner {
    /// Connects to the management sockets whose time has come; a socket not
    /// there yet is tried again in 0.2 s, for as long as its client runs.
    func connectManagement(at now: Double) {
        for (name, connection) in management.sorted(by: { $0.key < $1.key }) where (connection.nextAttempt ?? .infinity) <= now {
            let socket: FileDescriptor
            do { socket = try UnixSocket.connect(Array(connection.path.utf8), nonBlocking: true) } catch {
                // Not there yet (the client makes it shortly after it starts); a path too long never will be.
                connection.nextAttempt = error.code == nil ? nil : now + 0.2
                if error.code == nil { logger.error("domain \(name): \(error)") }
                continue
            }
            let fd = socket.rawValue
            // A new socket's buffer takes these few bytes at once.
            try? socket.write(Array("state on\nbytecount 5\nstate\n".utf8))
            connection.socket = consume socket
            connection.nextAttempt = nil
            do { connection.watch = try loop.watchUntilStopped(fd, name: "domain \(name)'s VPN client") { [unowned self] in self.readManagement(name) } } catch
            {
                logger.error("domain \(name): \(error)")
                closeManagement(name)
            }
        }
    }

    /// Reads what the client sent: whole lines change the domain's tunnel
    /// status; a line longer than the bound is dropped, never kept growing.
    private func readManagement(_ name: String) {
        guard let connection = management[name] else { return }
        let chunk: [UInt8]
        do {
            guard let read = try connection.socket?.read(upTo: 16384) else { return }
            chunk = read
        } catch {
            if error.code != .errno(EAGAIN) { closeManagement(name) }
            return
        }
        guard !chunk.isEmpty else {
            closeManagement(name)
            return
        }
        connection.buffer += chunk
        let before = catalog.vpns[name]?.tunnel
        while let newline = connection.buffer.firstIndex(of: 0x0A) {
            let line = String(decoding: connection.buffer[..<newline], as: UTF8.self).trimmingWhitespace()
            connection.buffer.removeSubrange(...newline)
            catalog.vpns[name]?.tunnel?.apply(openVPNManagementLine: line)
        }
        if connection.buffer.count > TunnelStatus.maximumLineBytes { connection.buffer.removeAll() }
        guard let after = catalog.vpns[name]?.tunnel, after != before else { return }
        if after.phase != before?.phase || after.server != before?.server {
            if after.phase == .connected { catalog.vpns[name]?.failure = nil }
            logger.info("domain \(name): \(after.reason)")
        }
        bus?.announce([name])
    }

    /// Closes the domain's management connection (its client ended, or the domain went).
    func closeManagement(_ name: String) {
        guard let connection = management.removeValue(forKey: name) else { return }
        if let watch = connection.watch { loop.stopWatching(watch) }
        connection.socket = nil
    }
}
