import BusWire
import Glibc
import HostNet
import LinuxSystem
import PvDCore

/// VPN domains (docs/design.md, "A domain on the host"): pvdd runs OpenVPN in its
/// own namespace, so the client's socket uses the host's uplinks; OpenVPN's
/// `--up` hook (`pvdd vpn-hook`) moves the tunnel into the domain and sets
/// its addresses, routes and DNS there. The tunnel is the domain's only way
/// out. The catalog keeps each domain's entry; this is the clients' side.
extension Runner {
    static let openVPN = "/usr/sbin/openvpn"
    /// Seconds before a client that exited is started again: 5, doubled
    /// after each run shorter than a minute, at most 5 minutes.
    static func vpnRestartDelay(afterShortRuns count: Int) -> Double { min(300, 5 * Double(1 << min(max(count, 0), 6))) }
    /// After this many short runs in a row the domain is `failed` (and still retried).
    static let failedAfterShortRuns = 2

    var openVPNLog: (String) -> String { { "\(self.stateDirectory)/openvpn-\($0).log" } }

    /// Starts the domain's OpenVPN client, its log beside the state file.
    func startOpenVPN(_ name: String) throws(BusError) {
        guard let vpn = catalog.vpns[name] else { return }
        do {
            let device = try KernelHostNet.tunnelDevice(for: name)
            try HostFiles.makeDirectories(stateDirectory)
            let hook = "\(Programs.ownPath() ?? "/usr/local/sbin/pvdd") vpn-hook"
            let child = try ChildProcess.spawn(
                Runner.openVPN,
                [
                    "--config", vpn.config, "--dev", device, "--dev-type", "tun", "--ifconfig-noexec", "--route-noexec",
                    "--script-security", "2", "--up", hook, "--up-restart", "--setenv", "PVD_DOMAIN", name,
                    "--log-append", openVPNLog(name), "--verb", "3",
                ], scratch: stateDirectory)
            try loop.onExit(of: child.pid) { [unowned self] status in
                _ = child.collect(limit: 0)
                self.clientExited(name, pid: child.pid, status: "status \(status)")
            }
            catalog.vpns[name]?.pid = child.pid
            catalog.vpns[name]?.startedAt = loop.now
        } catch {
            catalog.vpns[name]?.failure = "OpenVPN cannot start: \(error)"
            throw BusError(PvDBusAPI.ErrorName.failed, "cannot start openvpn for \(name): \(error)")
        }
    }

    /// A client ended: it starts again after a delay that grows with each
    /// short run; after a few in a row the domain says it failed, and why.
    private func clientExited(_ name: String, pid: pid_t, status: String) {
        guard var vpn = catalog.vpns[name], vpn.pid == pid else { return }
        let now = loop.now
        vpn.pid = nil
        vpn.shortRuns = now - vpn.startedAt < 60 ? vpn.shortRuns + 1 : 0
        let delay = Runner.vpnRestartDelay(afterShortRuns: vpn.shortRuns - 1)
        vpn.restartAt = now + delay
        if vpn.shortRuns >= Runner.failedAfterShortRuns {
            vpn.failure =
                "OpenVPN exited (\(status)) \(vpn.shortRuns) times in a row within a minute of starting; "
                + "its reason is in \(openVPNLog(name)); pvdd tries again in \(Int(delay)) s"
        }
        catalog.vpns[name] = vpn
        logger.warning("domain \(name): openvpn exited (\(status)), starting it again in \(Int(delay)) s; see \(openVPNLog(name))")
        saveState()
        bus?.announce([name])
        rearm(at: now)
    }

    /// Starts again the clients whose restart time has come.
    func restartDueVPNs(at now: Double) {
        for (name, vpn) in catalog.vpns.sorted(by: { $0.key < $1.key }) where (vpn.restartAt ?? .infinity) <= now {
            catalog.vpns[name]?.restartAt = nil
            do { try startOpenVPN(name) } catch {
                logger.error("domain \(name): \(error)")
                catalog.vpns[name]?.restartAt = now + Runner.vpnRestartDelay(afterShortRuns: 6)
            }
            saveState()
        }
    }

    /// Whether `pid` is the OpenVPN client pvdd started for `domain` (its
    /// command line says so): a pid from the state file is never trusted.
    static func isOwnOpenVPN(_ pid: pid_t, domain: String) -> Bool {
        guard let cmdline = HostFiles.read("/proc/\(pid)/cmdline") else { return false }
        let words = cmdline.split(separator: "\0", omittingEmptySubsequences: false).map(String.init)
        guard words.first == Runner.openVPN else { return false }
        return zip(words, zip(words.dropFirst(), words.dropFirst(2))).contains { $0 == "--setenv" && $1.0 == "PVD_DOMAIN" && $1.1 == domain }
    }

    /// A saved VPN domain: a client still running from before is kept (its
    /// tunnel and the programs using it are not disturbed) and watched again;
    /// otherwise a new one starts.
    func resumeVPN(_ name: String) {
        if let pid = catalog.vpns[name]?.pid, Runner.isOwnOpenVPN(pid, domain: name) {
            do {
                let watched = try loop.onExit(ofAdopted: pid) { [unowned self] in self.clientExited(name, pid: pid, status: "adopted") }
                if watched {
                    logger.info("domain \(name): openvpn \(pid) still runs; keeping it")
                    return
                }
            } catch {
                logger.error("domain \(name): \(error)")
            }
        }
        catalog.vpns[name]?.pid = nil
        do {
            try host.createTunnelDomain(name)
            try startOpenVPN(name)
        } catch {
            logger.error("domain \(name): \(error)")
        }
    }

    /// Stops every client pvdd started (for `pvdd --cleanup`).
    static func stopClients(_ vpns: [String: VPNEntry]) {
        for (name, vpn) in vpns.sorted(by: { $0.key < $1.key }) {
            if let pid = vpn.pid, isOwnOpenVPN(pid, domain: name) { kill(pid, SIGTERM) }
        }
    }
}

/// `pvdd vpn-hook`: what OpenVPN runs as `--up`, in pvdd's namespace, as
/// root: reads OpenVPN's environment and attaches the tunnel to the domain
/// named in PVD_DOMAIN. A failure makes OpenVPN give up rather than run a
/// tunnel nobody configured.
func runVPNHook() -> Never {
    var env: [String: String] = [:]
    var entry = environ
    while let pointer = entry.pointee {
        let text = String(cString: pointer)
        if let equals = text.firstIndex(of: "=") { env[String(text[..<equals])] = String(text[text.index(after: equals)...]) }
        entry += 1
    }
    func fail(_ message: String) -> Never {
        var line = "pvdd vpn-hook: \(message)\n"
        line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
        exit(1)
    }
    guard env["script_type"] == "up" else { exit(0) }
    guard let name = env["PVD_DOMAIN"] else { fail("no PVD_DOMAIN: run by pvdd's openvpn only") }
    do {
        let settings = try TunnelSettings(openVPNEnvironment: env)
        try KernelHostNet().attachTunnel(settings, to: name)
    } catch {
        fail("\(error)")
    }
    exit(0)
}
