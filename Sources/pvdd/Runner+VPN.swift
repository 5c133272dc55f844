import Bus
import Glibc
import HostNet
import PvDCore
import PvDExec
import PvDWire

/// A VPN domain: its OpenVPN client configuration and the client's process.
struct VPNDomain {
    var config: String
    var pid: pid_t?
    /// When a client that exited is started again.
    var restartAt: Double?
    /// When the client last started, and how many runs in a row were short.
    var startedAt: Double = 0
    var shortRuns = 0
}

/// VPN domains (DESIGN.md, "A domain on the host"): pvdd runs OpenVPN in its
/// own namespace, so the client's socket uses the host's uplinks; OpenVPN's
/// `--up` hook (`pvdd vpn-hook`) moves the tunnel into the domain and sets
/// its addresses, routes and DNS there. The tunnel is the domain's only way out.
extension Runner {
    static let openVPN = "/usr/sbin/openvpn"
    /// Seconds before a client that exited is started again: 5, doubled
    /// after each run shorter than a minute, at most 5 minutes.
    static func vpnRestartDelay(afterShortRuns count: Int) -> Double { min(300, 5 * Double(1 << min(max(count, 0), 6))) }

    /// AddDomain with `openvpn`: the (empty) domain at once, its tunnel when OpenVPN connects.
    func addVPNDomain(_ name: String, config: String) throws(BusError) {
        try makeVPNDomain(name, config: config)
        saveState()
        bus?.announce([name])
    }

    /// The VPN domain and its client, or nothing when either fails.
    func makeVPNDomain(_ name: String, config: String) throws(BusError) {
        guard config.hasPrefix("/"), access(config, R_OK) == 0 else {
            throw BusError(PvDBusAPI.ErrorName.invalidArguments, "openvpn: \(config) is not a readable absolute path")
        }
        guard access(Runner.openVPN, X_OK) == 0 else {
            throw BusError(PvDBusAPI.ErrorName.failed, "\(Runner.openVPN) is missing: install Debian's openvpn package")
        }
        do { try host.createTunnelDomain(name) } catch { throw BusError(PvDBusAPI.ErrorName.failed, "\(error)") }
        vpns[name] = VPNDomain(config: config)
        do { try startOpenVPN(name) } catch {
            try? host.remove([name])
            vpns[name] = nil
            throw error
        }
        logger.info("domain \(name): added (VPN, \(config))")
    }

    /// Stops the client and removes the domain.
    func removeVPNDomain(_ name: String) throws(HostNetError) {
        stopOpenVPN(name)
        vpns[name] = nil
        try host.remove([name])
    }

    /// Starts the domain's OpenVPN client, its log beside the state file.
    func startOpenVPN(_ name: String) throws(BusError) {
        guard let vpn = vpns[name] else { return }
        do {
            let device = try KernelHostNet.tunnelDevice(for: name)
            try HostFiles.makeDirectories(stateDirectory)
            let hook = "\(Programs.ownPath() ?? "/usr/local/sbin/pvdd") vpn-hook"
            let child = try ChildProcess.spawn(Runner.openVPN, [
                "--config", vpn.config, "--dev", device, "--dev-type", "tun", "--ifconfig-noexec", "--route-noexec",
                "--script-security", "2", "--up", hook, "--up-restart", "--setenv", "PVD_DOMAIN", name,
                "--log", "\(stateDirectory)/openvpn-\(name).log", "--verb", "3",
            ], scratch: stateDirectory)
            try loop.onExit(of: child.pid) { [unowned self] status in
                _ = child.collect(limit: 0)
                guard self.vpns[name]?.pid == child.pid else { return }
                self.vpns[name]?.pid = nil
                guard var vpn = self.vpns[name] else { return }
                let now = self.loop.now
                vpn.shortRuns = now - vpn.startedAt < 60 ? vpn.shortRuns + 1 : 0
                let delay = Runner.vpnRestartDelay(afterShortRuns: vpn.shortRuns - 1)
                vpn.restartAt = now + delay
                self.vpns[name] = vpn
                let report: String = "domain \(name): openvpn exited (status \(status)), starting it again in "
                    + "\(Int(delay)) s; see \(self.stateDirectory)/openvpn-\(name).log"
                logger.warning("\(report)")
                self.saveState()
                self.bus?.announce([name])
                self.rearm(at: now)
            }
            vpns[name]?.pid = child.pid
            vpns[name]?.startedAt = loop.now
        } catch {
            throw BusError(PvDBusAPI.ErrorName.failed, "cannot start openvpn for \(name): \(error)")
        }
    }

    /// Starts again the clients whose restart time has come.
    func restartDueVPNs(at now: Double) {
        for (name, vpn) in vpns.sorted(by: { $0.key < $1.key }) where (vpn.restartAt ?? .infinity) <= now {
            vpns[name]?.restartAt = nil
            do { try startOpenVPN(name) } catch {
                logger.error("domain \(name): \(error)")
                vpns[name]?.restartAt = now + Runner.vpnRestartDelay(afterShortRuns: 6)
            }
            saveState()
        }
    }

    /// Stops the domain's client (its tunnel goes with it).
    func stopOpenVPN(_ name: String) {
        vpns[name]?.restartAt = nil
        guard let pid = vpns[name]?.pid else { return }
        vpns[name]?.pid = nil
        kill(pid, SIGTERM)
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
    /// tunnel and the programs using it are not disturbed); otherwise a new one starts.
    func resumeVPN(_ name: String) {
        if let pid = vpns[name]?.pid, Runner.isOwnOpenVPN(pid, domain: name) {
            logger.info("domain \(name): openvpn \(pid) still runs; keeping it")
            return
        }
        vpns[name]?.pid = nil
        do {
            try host.createTunnelDomain(name)
            try startOpenVPN(name)
        } catch {
            logger.error("domain \(name): \(error)")
        }
    }

    var vpnState: JSONValue {
        .array(vpns.sorted { $0.key < $1.key }.map {
            .object([JSONMember("name", .string($0.key)), JSONMember("openvpn", .string($0.value.config)),
                     JSONMember("pid", $0.value.pid.map { .integer(Int64($0)) } ?? .null)])
        })
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
