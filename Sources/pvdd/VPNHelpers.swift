import Glibc
import HostNet
import LinuxSystem
import PvDCore

/// The programs pvdd runs as root for its VPN domains, in pvdd's namespace:
/// `pvdd vpn-hook` (OpenVPN's `--up` script) and `pvdd wireguard-up`.
enum VPNHelper {
    /// The process environment, as a dictionary.
    static func environment() -> [String: String] {
        var env: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "=") { env[String(text[..<equals])] = String(text[text.index(after: equals)...]) }
            entry += 1
        }
        return env
    }

    static func fail(_ message: String) -> Never {
        writeStandardError("pvdd \(CommandLine.arguments.dropFirst().first ?? ""): \(message)\n")
        exit(1)
    }

    /// `pvdd vpn-hook`: the script OpenVPN (`--up`) and OpenConnect
    /// (`--script`) run. Reads their environment and attaches the tunnel to
    /// the domain named in PVD_DOMAIN; again on a reconnect (`persist-tun`,
    /// OpenConnect's `reconnect`), where the device is already inside. For
    /// OpenConnect it also writes the connection's state for pvdd. A failure
    /// makes the client give up rather than run a tunnel nobody configured.
    static func hook() -> Never {
        let env = environment()
        if let reason = env["reason"] { openConnectHook(reason, env) }
        if let event = env["PVD_TUNNEL_EVENT"] { contractHook(event, env) }
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

    /// OpenConnect's reasons: `connect` and `reconnect` attach the tunnel;
    /// each phase is written for pvdd.
    private static func openConnectHook(_ reason: String, _ env: [String: String]) -> Never {
        let name = domain(env)
        switch reason {
        case "connect", "reconnect":
            do { try KernelHostNet().attachTunnel(try TunnelSettings(openConnectEnvironment: env), to: name) } catch { fail("\(error)") }
            record(.connected, of: .openConnect, server: env["VPNGATEWAY"], env)
        case "attempt-reconnect": record(.reconnecting, of: .openConnect, server: env["VPNGATEWAY"], env)
        case "pre-init", "disconnect": record(.connecting, of: .openConnect, server: env["VPNGATEWAY"], env)
        default: exit(0)
        }
    }

    /// pvd's own contract for any tunnel program (docs/guide.md):
    /// PVD_TUNNEL_EVENT `up` (again after a reconnect) attaches the tunnel
    /// described by the PVD_TUNNEL_* variables; `reconnecting` and `down`
    /// only change the state.
    private static func contractHook(_ event: String, _ env: [String: String]) -> Never {
        let name = domain(env)
        switch event {
        case "up":
            do { try KernelHostNet().attachTunnel(try TunnelSettings(hookEnvironment: env), to: name) } catch { fail("\(error)") }
            record(.connected, of: .command, server: env["PVD_TUNNEL_SERVER"], env)
        case "reconnecting": record(.reconnecting, of: .command, server: env["PVD_TUNNEL_SERVER"], env)
        case "down": record(.connecting, of: .command, server: env["PVD_TUNNEL_SERVER"], env)
        default: fail("PVD_TUNNEL_EVENT is up, reconnecting or down, not \(event)")
        }
    }

    /// The domain named in PVD_DOMAIN (set by pvdd for the clients it starts).
    private static func domain(_ env: [String: String]) -> String {
        guard let name = env["PVD_DOMAIN"], let directory = env["PVD_STATE_DIRECTORY"], directory.hasPrefix("/") else {
            fail("no PVD_DOMAIN or PVD_STATE_DIRECTORY: run by a VPN client pvdd started")
        }
        return name
    }

    /// Writes the tunnel's phase to `CLIENT-NAME.status` in PVD_STATE_DIRECTORY, where pvdd reads it, and exits.
    private static func record(_ phase: TunnelStatus.Phase, of client: VPNClient, server: String?, _ env: [String: String]) -> Never {
        let name = domain(env)
        let line = TunnelStatus.hookStatusLine(phase, at: SystemClock.unixTime, server: server ?? "")
        do { try HostFiles.writeAtomically(directory: env["PVD_STATE_DIRECTORY"]!, name: "\(client.rawValue)-\(name).status", contents: line) } catch {
            fail("\(error)")
        }
        exit(0)
    }

    /// `pvdd wireguard-up NAME CONFIG STATE-DIRECTORY`: pvdd's client process
    /// for a WireGuard domain. Makes the device in pvdd's namespace (the
    /// kernel's WireGuard where it is loaded, else Debian's `wireguard-go`,
    /// whose UDP socket stays outside too), gives it the keys and peers with
    /// `wg setconf`, moves it into the domain with its addresses, routes and
    /// DNS, then stays: every 2 s it writes the latest handshake and byte
    /// counts to `wireguard-NAME.status` for pvdd. It ends when
    /// wireguard-go ends, and on SIGTERM takes the tunnel down.
    static func wireGuardUp() -> Never {
        let arguments = CommandLine.arguments
        guard arguments.count == 5 else { fail("usage: pvdd wireguard-up NAME CONFIG STATE-DIRECTORY") }
        let (name, path, directory) = (arguments[2], arguments[3], arguments[4])
        var blocked = sigset_t()
        sigemptyset(&blocked)
        for signal in [SIGTERM, SIGINT, SIGCHLD] { sigaddset(&blocked, signal) }
        sigprocmask(SIG_BLOCK, &blocked, nil)
        let configuration: WireGuardConfiguration
        let device: String
        let settings: TunnelSettings
        do {
            guard let bytes = try HostFiles.readOwnFile(path, limit: OpenVPNConfiguration.maximumBytes, secret: true) else { fail("\(path): no such file") }
            configuration = try WireGuardConfiguration(String(decoding: bytes, as: UTF8.self))
            device = try KernelHostNet.tunnelDevice(for: name)
            settings = try configuration.tunnelSettings(device: device)
        } catch {
            fail("\(path): \(error)")
        }
        stopLeftover(device)
        var userspace: pid_t?
        if !KernelHostNet.hasWireGuardModule || run("/sbin/ip", ["link", "add", device, "type", "wireguard"], scratch: directory) != 0 {
            log("pvdd wireguard-up: no kernel WireGuard; starting \(Runner.wireGuardGo)\n")
            do { userspace = try ChildProcess.spawnLogging(Runner.wireGuardGo, ["-f", device], log: nil) } catch { fail("\(error)") }
            guard pollUntil(seconds: 5, { access("/var/run/wireguard/\(device).sock", F_OK) == 0 }) else {
                kill(userspace!, SIGTERM)
                fail("\(Runner.wireGuardGo) made no \(device) within 5 s")
            }
        }
        func stop(_ message: String?) -> Never {
            if let userspace { kill(userspace, SIGTERM) } else { _ = run("/sbin/ip", ["link", "del", device], scratch: directory) }
            if let message { fail(message) }
            exit(0)
        }
        let scratch = "\(directory)/wireguard-\(name).conf"
        do {
            // The private key: root's alone from the first byte.
            try HostFiles.writeAtomically(directory: directory, name: "wireguard-\(name).conf", contents: configuration.wgConfig, mode: 0o600)
        } catch {
            stop("\(error)")
        }
        let configured = run(Runner.wg, ["setconf", device, scratch], scratch: directory)
        unlink(scratch)
        guard configured == 0 else { stop("wg setconf \(device) failed (status \(configured))") }
        do { try KernelHostNet().attachTunnel(settings, to: name) } catch { stop("\(error)") }
        log("pvdd wireguard-up: \(device) is in domain \(name)\n")
        let status = "wireguard-\(name).status"
        while true {
            let dump = output(Runner.wg, ["show", device, "dump"], scratch: directory) ?? ""
            try? HostFiles.writeAtomically(directory: directory, name: status, contents: dump)
            var timeout = timespec(tv_sec: 2, tv_nsec: 0)
            let signal = sigtimedwait(&blocked, nil, &timeout)
            if signal == SIGTERM || signal == SIGINT {
                _ = try? HostFiles.remove(directory: directory, name: status)
                stop(nil)
            }
            if signal == SIGCHLD, let pid = userspace, let exitStatus = ChildProcess.exitStatus(of: pid) {
                _ = try? HostFiles.remove(directory: directory, name: status)
                fail("\(Runner.wireGuardGo) ended (status \(exitStatus))")
            }
        }
    }

    /// A wireguard-go left by a helper that was killed (it outlives its
    /// parent) still holds the domain's device: it is stopped first, so the
    /// new one can make the device again.
    static func stopLeftover(_ device: String) {
        let wanted = "\(Runner.wireGuardGo)\0-f\0\(device)\0"
        for _ in 0..<3 {
            guard let pid = ProcessTable.first(where: { _, pid in HostFiles.read("/proc/\(pid)/cmdline") == wanted }), let number = pid_t(pid) else { return }
            log("pvdd wireguard-up: stopping a wireguard-go left for \(device) (pid \(pid))\n")
            kill(number, SIGTERM)
            if !pollUntil(seconds: 2, { kill(number, 0) != 0 }) { kill(number, SIGKILL) }
        }
    }

    /// Runs a program to its end, its output into the log; its exit status
    /// (127 when it cannot start).
    static func run(_ path: String, _ arguments: [String], scratch: String) -> Int32 {
        let ran = ChildProcess.run(path, arguments, scratch: scratch, limit: 4096)
        log(String(decoding: ran.output + ran.errors, as: UTF8.self))
        return ran.status ?? 127
    }

    /// A program's standard output, when it ends with status 0.
    static func output(_ path: String, _ arguments: [String], scratch: String) -> String? {
        let ran = ChildProcess.run(path, arguments, scratch: scratch)
        return ran.status == 0 ? String(decoding: ran.output, as: UTF8.self) : nil
    }

    /// Writes to stderr, which is the helper's log.
    static func log(_ text: String) {
        writeStandardError(text)
    }
}
