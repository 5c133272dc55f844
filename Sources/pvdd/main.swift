// pvdd: listens for Router Advertisements on its uplinks and keeps one network
// namespace per provisioning domain in step with them (DESIGN.md, "The
// daemon's flow"): libndp RA → PvDWire → DomainTable → HostNet, all on one
// sd-event loop with the expiry timer and the signals.
import ArgumentParser
import Glibc
import HostNet
import PvDConfig
import PvDCore
import PvDWire

struct Daemon: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pvdd",
        abstract: "Turn every provisioning domain learnt from Router Advertisements into a network namespace.",
        discussion: "Settings come from the configuration file; the options below override it.")

    static let defaultConfigFile = "/etc/pvd/pvdd.yaml"

    @Option(help: ArgumentHelp("The YAML configuration file (absent at the default path: every default).", valueName: "file"))
    var config: String = Daemon.defaultConfigFile

    @Option(name: .customLong("uplink"), help: "An interface to learn provisioning domains on (repeat for more; replaces the file's list).")
    var uplinks: [String] = []

    @Flag(help: "Leave the domains in place when stopping (a restarted pvdd adopts them).")
    var persist = false

    @Option(help: "Seconds a domain without routers is kept before it is removed.")
    var gracePeriod: Double?

    @Option(help: "Where the daemon keeps what it learnt, to carry on after a restart.")
    var state: String?

    /// The file's settings with the command line's on top.
    func settings() throws -> DaemonConfiguration {
        var settings = DaemonConfiguration()
        if let text = HostFiles.read(config) {
            do { settings = try DaemonConfiguration(yaml: text) } catch {
                throw ValidationError("\(config): \(error)")
            }
        } else if config != Daemon.defaultConfigFile || access(config, F_OK) == 0 {
            throw ValidationError("\(config): cannot read it (\(String(cString: strerror(errno))))")
        }
        var overrides: [JSONMember] = []
        if !uplinks.isEmpty { overrides.append(JSONMember("uplinks", .array(uplinks.map { JSONValue.string($0) }))) }
        if let gracePeriod { overrides.append(JSONMember("grace-period", .number(gracePeriod))) }
        if let state { overrides.append(JSONMember("state", .string(state))) }
        do {
            let checked = try DaemonConfiguration(.object(overrides))  // the same checks as the file's
            if !uplinks.isEmpty { settings.uplinks = checked.uplinks }
            if gracePeriod != nil { settings.gracePeriod = checked.gracePeriod }
            if state != nil { settings.statePath = checked.statePath }
        } catch {
            throw ValidationError("--\(error.path): \(error.problem)")
        }
        if persist { settings.persist = true }
        return settings
    }

    func run() throws {
        let daemon: Runner
        do { daemon = try Runner(settings: try settings()) } catch let error as ValidationError {
            throw error
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(1)
        }
        let code = daemon.run()
        if code != 0 { throw ExitCode(code) }
    }
}

/// The secret behind stable addresses: this machine's /etc/machine-id, so the
/// same prefix and domain give the same address across restarts.
func hostSecret() -> [UInt8] {
    guard let id = HostFiles.read("/etc/machine-id"), !id.isEmpty else { return Array("pvd-no-machine-id".utf8) }
    return SHA256.hash(Array(id.utf8))
}

// OpenVPN runs `pvdd vpn-hook DEV MTU …` as its --up script.
if CommandLine.arguments.count >= 2, CommandLine.arguments[1] == "vpn-hook" { runVPNHook() }
Daemon.main()
