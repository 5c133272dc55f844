// pvdd: listens for Router Advertisements on its uplinks and keeps one network
// namespace per provisioning domain in step with them (DESIGN.md, "The
// daemon's flow"): libndp RA → PvDWire → DomainTable → HostNet, all on one
// sd-event loop with the expiry timer and the signals.
import ArgumentParser
import Bus
import Glibc
import HostNet
import NDP
import PvDCore
import PvDWire

struct Daemon: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pvdd",
        abstract: "Turn every provisioning domain learnt from Router Advertisements into a network namespace.")

    @Option(name: .customLong("uplink"), help: "An interface to learn provisioning domains on (repeat for more).")
    var uplinks: [String] = []

    @Flag(help: "Leave the domains in place when stopping (a restarted pvdd adopts them).")
    var persist = false

    @Option(help: "Seconds a domain without routers is kept before it is removed.")
    var gracePeriod: Double = 60

    @Option(help: "Where the daemon keeps what it learnt, to carry on after a restart.")
    var state: String = "/run/pvd/state.json"

    func validate() throws {
        guard !uplinks.isEmpty else {
            throw ValidationError("name at least one --uplink (reading /etc/pvd/pvdd.yaml is not implemented yet)")
        }
        guard gracePeriod >= 0 else { throw ValidationError("--grace-period must not be negative") }
        guard state.hasPrefix("/"), let slash = state.lastIndex(of: "/"), state.index(after: slash) != state.endIndex else {
            throw ValidationError("--state must be an absolute file path")
        }
    }

    func run() throws {
        let daemon: Runner
        do { daemon = try Runner(uplinks: Set(uplinks), persist: persist, gracePeriod: gracePeriod, statePath: state) } catch {
            log("cannot start: \(error)")
            throw ExitCode(1)
        }
        let code = daemon.run()
        if code != 0 { throw ExitCode(code) }
    }
}

/// Writes one line to stderr (the journal under systemd).
func log(_ message: String) {
    var line = "pvdd: \(message)\n"
    line.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
}

/// The secret behind stable addresses: this machine's /etc/machine-id, so the
/// same prefix and domain give the same address across restarts.
func hostSecret() -> [UInt8] {
    guard let id = HostFiles.read("/etc/machine-id"), !id.isEmpty else { return Array("pvd-no-machine-id".utf8) }
    return SHA256.hash(Array(id.utf8))
}

/// The daemon's state and handlers; everything runs on the event loop's thread.
final class Runner {
    let uplinks: Set<String>
    let persist: Bool
    let statePath: String
    /// `statePath` split into its directory and file name (validated absolute).
    var stateDirectory: String { String(statePath[..<statePath.lastIndex(of: "/")!]) }
    var stateFile: String { String(statePath[statePath.index(after: statePath.lastIndex(of: "/")!)...]) }
    let loop: EventLoop
    let listener: RouterAdvertisementListener
    let links: LinkMonitor
    let host: KernelHostNet
    var table: DomainTable
    var malformed = 0
    var lastMalformedReport: Double = -.infinity
    /// Domains past their grace period that stay because programs run inside;
    /// looked at again every few seconds.
    var lingering: Set<String> = []
    static let lingerCheck = 5.0
    var reportedCounters = LimitCounters()
    var lastLimitReport: Double = -.infinity

    init(uplinks: Set<String>, persist: Bool, gracePeriod: Double, statePath: String) throws {
        self.uplinks = uplinks
        self.persist = persist
        self.statePath = statePath
        loop = try EventLoop()
        listener = try RouterAdvertisementListener()
        links = try LinkMonitor()
        host = try KernelHostNet()
        table = DomainTable(secret: hostSecret(), gracePeriod: gracePeriod)
        if let text = HostFiles.read(statePath) {
            do {
                table = try DomainTable(state: try JSONValue.parse(Array(text.utf8)), secret: table.secret, gracePeriod: gracePeriod)
            } catch {
                log("ignoring \(statePath): \(error)")
            }
        }
    }

    /// Carries on after a restart: re-applies every domain of the saved state
    /// (HostNet changes nothing where the kernel already matches, so programs
    /// inside are not disturbed), then removes what no domain owns any more.
    private func adopt() {
        let now = loop.now
        let names = Set(table.specs(at: now).map(\.name))
        push(names.union(table.expire(at: now)), at: now, quiet: true)
        do {
            let removed = try host.removeLeftovers(keeping: names)
            for name in removed { log("domain \(name): removed (left over)") }
        } catch {
            log("removing leftovers: \(error)")
        }
        log("carrying on with \(names.count) domain(s) from \(statePath)")
    }

    /// Writes the table to the state file (atomically).
    private func saveState() {
        do {
            try HostFiles.writeAtomically(directory: stateDirectory, name: stateFile, contents: table.state.serialized + "\n")
        } catch {
            log("saving state: \(error)")
        }
    }

    func run() -> Int32 {
        do {
            try loop.watch(listener.descriptor) { [unowned self] in self.receive() }
            try loop.watch(links.descriptor) { [unowned self] in
                // A link that comes (back) up gets a solicitation as soon as its link-local
                // address is usable, so its routers answer at once.
                for uplink in self.links.receive() where self.uplinks.contains(uplink) { self.solicit(uplink) }
            }
            try loop.onSignals([SIGTERM, SIGINT]) { [unowned self] signal in self.stop(signal) }
            uplinks.sorted().forEach(solicit)
            adopt()
            EventLoop.notifyReady()
            log("listening on \(uplinks.sorted().joined(separator: ", "))")
            return try loop.run()
        } catch {
            log("\(error)")
            return 1
        }
    }

    private func solicit(_ uplink: String) {
        do { try listener.solicit(on: uplink) } catch { log("router solicitation on \(uplink): \(error)") }
    }

    private func receive() {
        let received: [ReceivedRouterAdvertisement]
        do { received = try listener.receive() } catch {
            log("\(error)")
            return
        }
        let now = loop.now
        var changed: Set<String> = []
        for ra in received where uplinks.contains(ra.interface) {
            do {
                let advertisement = try RouterAdvertisement.parse(ra.message)
                changed.formUnion(table.observe(advertisement, from: ra.source, on: ra.interface, at: now))
            } catch {
                // Counted, and reported at most every 10 s: a flood must not flood the log.
                malformed += 1
                if now - lastMalformedReport >= 10 {
                    log("ignored \(malformed) malformed RA(s); latest from \(ra.source)%\(ra.interface): \(error)")
                    malformed = 0
                    lastMalformedReport = now
                }
            }
        }
        push(changed, at: now)
        reportLimits(at: now)
    }

    /// What the limits refused since the last report, at most every 10 s.
    private func reportLimits(at now: Double) {
        let counters = table.counters
        guard counters != reportedCounters, now - lastLimitReport >= 10 else { return }
        log("limits: \(counters.rateLimitedRAs - reportedCounters.rateLimitedRAs) RA(s) over the rate, "
            + "\(counters.refusedDomains - reportedCounters.refusedDomains) new domain(s), "
            + "\(counters.refusedRouters - reportedCounters.refusedRouters) router(s) and "
            + "\(counters.refusedEntries - reportedCounters.refusedEntries) entr(ies) refused; "
            + "\(table.domains.count) domain(s)")
        reportedCounters = counters
        lastLimitReport = now
    }

    private func expire() {
        let now = loop.now
        // Lingering domains whose last program has gone (or that came back) are handled again.
        push(table.expire(at: now).union(lingering), at: now)
    }

    /// Applies what changed (one log line per domain change, unless `quiet`),
    /// saves the state and re-arms the expiry timer.
    private func push(_ changed: Set<String>, at now: Double, quiet: Bool = false) {
        var changed = changed
        for name in changed.sorted() where table.spec(named: name, at: now) == nil {
            if host.hasProcesses(inDomain: name) {
                if lingering.insert(name).inserted { log("domain \(name): kept while programs run inside") }
                changed.remove(name)
            } else {
                lingering.remove(name)
            }
        }
        lingering.subtract(changed.filter { table.spec(named: $0, at: now) != nil })
        let failures = table.push(changed, to: host, at: now)
        if !changed.isEmpty { saveState() }
        for name in changed.sorted() where !quiet || failures[name] != nil {
            if let failure = failures[name] {
                log("domain \(name): \(failure)")
            } else if let spec = table.spec(named: name, at: now) {
                log("domain \(name): \(spec.addresses.count) address(es), \(spec.routers.count) router(s), \(spec.dnsServers.count) DNS server(s) on \(spec.uplink)")
            } else {
                log("domain \(name): removed")
            }
        }
        let nextCheck = lingering.isEmpty ? nil : now + Runner.lingerCheck
        let next = [table.nextExpiry(), nextCheck].compactMap { $0 }.min()
        do {
            try loop.setTimer(at: next) { [unowned self] in self.expire() }
        } catch {
            log("\(error)")
        }
    }

    private func stop(_ signal: Int32) {
        if !persist {
            let names = table.specs(at: loop.now).map(\.name) + lingering.sorted()
            do { try host.remove(names) } catch { log("removing domains: \(error)") }
            do {
                try HostFiles.remove(directory: stateDirectory, name: stateFile)
            } catch {
                log("removing \(statePath): \(error)")
            }
            log("stopped on signal \(signal); removed \(names.count) domain(s)")
        } else {
            log("stopped on signal \(signal); domains left in place")
        }
        loop.exit(0)
    }
}

Daemon.main()
