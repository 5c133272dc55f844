// pvdd: listens for Router Advertisements on its uplinks and keeps one network
// namespace per provisioning domain in step with them (docs/design.md, "The
// daemon's flow"): libndp RA → PvDWire → DomainTable → HostNet, all on one
// sd-event loop with the expiry timer and the signals.
import CommandSyntax
import Glibc
import LinuxSystem
import PvDConfig
import PvDCore
import PvDWire

struct Daemon {
    static let command = Command(
        "pvdd", abstract: "Turn every provisioning domain learnt from Router Advertisements into a network namespace.",
        discussion: "Settings come from the configuration file; the options below override it.",
        options: [
            .value("config", "file", help: "The YAML configuration file (absent at the default path: every default).", completion: .file),
            .value(
                "uplink", help: "An interface to learn provisioning domains on (repeat for more; replaces the file's list).", repeats: true,
                completion: .interface),
            .flag("cleanup", help: "Remove every domain, namespace, VPN client and host change pvd made in this network namespace, then exit."),
            .value("grace-period", "seconds", help: "Seconds a domain without routers is kept before it is removed."),
            .value("state", "file", help: "Where the daemon keeps what it learnt, to carry on after a restart.", completion: .file),
            .value(
                "host-mount-namespace", "path",
                help: "Publish namespaces under /run/netns in this mount namespace (the unit: /proc/1/ns/mnt, the host's, as pvdd runs in systemd's sandbox).",
                completion: .file),
        ],
        version: PvDVersion.string,
        action: { try Daemon($0).run() })

    static let defaultConfigFile = Paths.configurationFile

    let config: String
    let uplinks: [String]
    let cleanup: Bool
    let gracePeriod: Double?
    let state: String?
    let hostMountNamespace: String?

    init(_ arguments: Arguments) throws(UsageError) {
        config = arguments.value("config") ?? Daemon.defaultConfigFile
        uplinks = arguments.values("uplink")
        cleanup = arguments.flag("cleanup")
        gracePeriod = try arguments.value("grace-period", as: Double.self)
        (state, hostMountNamespace) = (arguments.value("state"), arguments.value("host-mount-namespace"))
    }

    /// The configuration file and its drop-ins (domains.d/*.yaml beside it),
    /// with the command line's settings on top.
    func readFiles() throws(ConfigurationError) -> ConfigurationFiles {
        var files = try ConfigurationFiles.read(
            config, mustExist: config != Daemon.defaultConfigFile || access(config, F_OK) == 0,
            read: { HostFiles.read($0, limit: YAMLLimits.maximumBytes + 1) }, why: { systemError("read", $0).reason }, entries: HostFiles.entries(of:))
        var overrides: [JSONMember] = []
        if !uplinks.isEmpty { overrides.append(JSONMember("uplinks", .array(uplinks.map { JSONValue.string($0) }))) }
        if let gracePeriod { overrides.append(JSONMember("grace-period", .number(gracePeriod))) }
        if let state { overrides.append(JSONMember("state", .string(state))) }
        let checked: DaemonConfiguration
        do { checked = try DaemonConfiguration(.object(overrides)) } catch {
            throw ConfigurationError("--\(error.path)", error.problem)  // the same checks as the file's
        }
        if !uplinks.isEmpty { files.settings.uplinks = checked.uplinks }
        if gracePeriod != nil { files.settings.gracePeriod = checked.gracePeriod }
        if state != nil { files.settings.statePath = checked.statePath }
        return files
    }

    func run() throws {
        _ = Programs.ownPath  // read now, before an upgrade can replace the file (the VPN hook's path)
        let files: ConfigurationFiles
        do { files = try readFiles() } catch { throw UsageError("\(error)") }
        let lock: InstanceLock
        do {
            switch try InstanceLock.acquire() {
            case .success(let held): lock = held
            case .failure(let other):
                logger.critical("\(other)")
                throw ExitStatus(1)
            }
        } catch let error as ExitStatus {
            throw error
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitStatus(1)
        }
        defer { withExtendedLifetime(lock) {} }
        if let hostMountNamespace {
            do { try Namespaces.makeMounts(in: hostMountNamespace) } catch {
                logger.critical("cannot start: \(error)")
                throw ExitStatus(1)
            }
        }
        if cleanup { throw ExitStatus(Runner.cleanup(files.settings)) }
        let daemon: Runner
        do {
            daemon = Runner(
                files: files, readFiles: readFiles, parts: try DaemonParts.kernel(files.settings),
                dropInDirectory: ConfigurationFiles.dropInDirectory(of: config))
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitStatus(1)
        }
        let code = daemon.run()
        if code != 0 { throw ExitStatus(code) }
    }
}

/// The secret behind stable addresses: this machine's /etc/machine-id, so the
/// same prefix and domain give the same address across restarts.
func hostSecret() -> [UInt8] {
    guard let id = HostFiles.read("/etc/machine-id"), !id.isEmpty else { return Array("pvd-no-machine-id".utf8) }
    return SHA256.hash(Array(id.utf8))
}

// pvdd's VPN helpers: OpenVPN (--up) and OpenConnect (--script) run `pvdd
// vpn-hook`; `pvdd wireguard-up` is a WireGuard domain's client process.
if CommandLine.arguments.count >= 2, CommandLine.arguments[1] == "vpn-hook" { VPNHelper.hook() }
if CommandLine.arguments.count >= 2, CommandLine.arguments[1] == "wireguard-up" { VPNHelper.wireGuardUp() }
Daemon.command.main()
