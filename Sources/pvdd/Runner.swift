import BusWire
import Glibc
import HostNet
import LinuxSystem
import NDP
import PvDConfig
import PvDCore
import PvDWire
import Systemd

/// The daemon's state and handlers; everything runs on the event loop's thread.
final class Runner {
    /// Settings from the configuration file (access and aliases change on reload).
    var settings: DaemonConfiguration
    /// Reads the configuration files again (for reload).
    let readFiles: () throws(ConfigurationError) -> ConfigurationFiles
    /// What the files declared at start or at the last reload.
    var declaredInFiles: DeclarativeState
    /// The uplinks named in the settings; nil: every interface but `lo` and pvd's own.
    let uplinks: Set<String>?
    var statePath: String { settings.statePath }
    /// `statePath` split into its directory and file name (validated absolute).
    var stateDirectory: String { String(statePath[..<statePath.lastIndex(of: "/")!]) }
    var stateFile: String { String(statePath[statePath.index(after: statePath.lastIndex(of: "/")!)...]) }
    let loop: any DaemonLoop
    let listener: any RouterAdvertisementSource
    let links: any LinkEventSource
    /// Duplicate address detection on the uplinks; nil when the settings turn it off.
    let prober: (any AddressProber)?
    /// How long a new address is probed: one solicitation, RFC 4862's RetransTimer.
    static let addressProbeTime = 1.0
    let host: any DaemonHost
    let launcher: any ProcessLauncher
    let connectBus: ((Runner) throws(BusError) -> DaemonBus)?
    /// Every domain of every kind (PvDCore's DomainCatalog).
    var catalog: DomainCatalog
    var malformed = 0
    var lastMalformedReport: Double = -.infinity
    /// Lingering domains are looked at again this often (whatever else arrives meanwhile).
    static let lingerCheck = 2.0
    var nextLingerCheck: Double?
    var reportedCounters = LimitCounters()
    var lastLimitReport: Double = -.infinity
    /// RFC 8801 additional information: the schedule, and the fetches running by domain.
    var information = AdditionalInformationTable()
    var fetches: [String: ChildProcess] = [:]
    /// OpenVPN clients' management connections, by domain.
    var management: [String: ManagementConnection] = [:]
    /// The D-Bus service; nil when there is no system bus.
    var bus: DaemonBus?
    /// What another program took from pvd's domains, to put back (Runner+Repair.swift).
    var repairs = Repairs()
    /// The pending checkpoint, the number the last one had, and when a
    /// rollback that failed is tried again (Runner+Checkpoint.swift).
    var checkpoint: Checkpoint?
    var lastCheckpoint: UInt32 = 0
    var rollbackRetryAt: Double?
    /// The directory of drop-in files a checkpoint keeps; nil: none.
    let dropInDirectory: String?
    /// The staged candidate (Runner+Stage.swift).
    var staged: StagedState?
    /// Each domain's last verification, and those running (Verification.swift).
    var health: [String: [HealthCheck]] = [:]
    var verifications: [ObjectIdentifier: Verification] = [:]

    /// A daemon on `parts` (``DaemonParts/kernel(_:)`` on a real host), with
    /// the saved state read back; nothing changes before ``start()``.
    init(
        files: ConfigurationFiles, readFiles: @escaping () throws(ConfigurationError) -> ConfigurationFiles, parts: DaemonParts,
        dropInDirectory: String? = nil
    ) {
        settings = files.settings
        self.dropInDirectory = dropInDirectory
        declaredInFiles = files.declared
        self.readFiles = readFiles
        uplinks = settings.uplinks.isEmpty ? nil : Set(settings.uplinks)
        loop = parts.loop
        listener = parts.listener
        links = parts.links
        prober = parts.prober
        host = parts.host
        launcher = parts.launcher
        connectBus = parts.connectBus
        catalog = DomainCatalog(table: Runner.emptyTable(settings))
        do {
            if let bytes = try HostFiles.readOwnFile(settings.statePath, limit: SavedState.maximumBytes) {
                let saved = SavedState(bytes: bytes, empty: catalog.table)
                for reason in saved.dropped { logger.warning("\(statePath): dropped \(reason)") }
                catalog = DomainCatalog(saved: saved, namespaceExists: host.namespaceExists)
                checkpoint = saved.checkpoint
                lastCheckpoint = saved.lastCheckpoint
            }
        } catch {
            logger.warning("not reading \(statePath): \(error)")
        }
    }

    /// The learnt-domain table the settings make, with nothing learnt yet.
    static func emptyTable(_ settings: DaemonConfiguration) -> DomainTable {
        DomainTable(
            secret: hostSecret(), gracePeriod: settings.gracePeriod, aliases: settings.aliases,
            attachments: settings.attachments, addressProbeTime: settings.duplicateAddressDetection ? addressProbeTime : nil)
    }

    /// Whether RAs heard on `interface` count.
    func listens(on interface: String) -> Bool {
        if let uplinks { return uplinks.contains(interface) }
        return interface != "lo" && DomainNaming.slot(ofHostLink: interface) == nil
    }

    /// Carries on after a restart: re-applies every domain of the saved state
    /// (HostNet changes nothing where the kernel already matches, so programs
    /// inside are not disturbed), watches the VPN clients still running, then
    /// removes what no domain owns any more.
    private func adopt() {
        let now = loop.now
        catalog.table.publishedPorts = settings.ports
        for spec in catalog.statics.values.sorted(by: { $0.name < $1.name }) {
            do { try host.apply(spec) } catch { logger.error("domain \(spec.name): \(error)") }
        }
        for name in catalog.vpns.keys.sorted() { resumeVPN(name) }
        let learnt = Set(catalog.table.domains.values.map(\.name))
        push(learnt.union(catalog.table.expire(at: now)), at: now, quiet: true)
        do {
            let removed = try host.removeLeftovers(keeping: Set(catalog.names))
            for name in removed { logger.info("domain \(name): removed (left over)") }
        } catch {
            logger.error("removing leftovers: \(error)")
        }
        // A firewall reload while pvdd was away may have flushed the forward filter.
        do { try host.restoreForwardFilter() } catch { logger.error("\(error)") }
        logger.info("carrying on with \(catalog.names.count) domain(s) from \(statePath)")
    }

    /// Writes the catalog to the state file (atomically).
    func saveState() {
        var document = catalog.document
        if case .object(var members) = document {
            let entries = information.entries.sorted { $0.key < $1.key }.map { JSONMember($0.key, $0.value.json) }
            members.append(JSONMember("additional_information", .object(entries)))
            members.append(JSONMember("checkpoint", checkpoint?.json ?? .null))
            members.append(JSONMember("last_checkpoint", .integer(Int64(lastCheckpoint))))
            document = .object(members)
        }
        do {
            try HostFiles.writeAtomically(directory: stateDirectory, name: stateFile, contents: document.serialized + "\n")
        } catch {
            logger.error("saving state: \(error)")
        }
    }

    /// Starts, then runs the loop until a signal stops it.
    func run() -> Int32 {
        do {
            try start()
            EventLoop.notifyReady()
            logger.info("listening on \(uplinks.map { $0.sorted().joined(separator: ", ") } ?? "every interface")")
            return try loop.run()
        } catch {
            logger.error("\(error)")
            return 1
        }
    }

    /// Watches the event sources, solicits routers, adopts the saved state,
    /// applies the declared domains and offers the D-Bus API.
    func start() throws(SystemError) {
        host.solicitRouters = { [unowned self] interface in self.solicit(interface) }
        host.willRemove = { [unowned self] names in self.stopWatching(names) }
        try loop.watch(listener.descriptor, name: "a Router Advertisement") { [unowned self] in self.receive() }
        try loop.watch(links.descriptor, name: "a link change") { [unowned self] in
            // A link that comes (back) up gets a solicitation as soon as its link-local
            // address is usable, so its routers answer at once.
            let news = self.links.receive()
            for uplink in news.ready where self.listens(on: uplink) { self.solicit(uplink) }
            if news.ipv4Changed { self.followIPv4() }
            if news.somethingTaken { self.somethingTaken(inDomain: nil) }
        }
        if let prober {
            try loop.watch(prober.descriptor, name: "a Neighbor Advertisement") { [unowned self] in self.receiveNeighborAdvertisements(prober) }
        }
        try loop.onSignals([SIGTERM, SIGINT, SIGHUP]) { [unowned self] signal in
            if signal == SIGHUP {
                do { try self.reload() } catch { logger.error("reload: \(error)") }
            } else {
                self.stop(signal)
            }
        }
        let present = uplinks.map { Array($0) } ?? LinkMonitor.interfaceNames().filter(listens(on:))
        present.sorted().forEach(solicit)
        _ = catalog.table.setIPv4Uplinks(ipv4Uplinks(), at: loop.now)
        adopt()
        do { try applyFileDeclared(declaredInFiles) } catch { logger.error("domains declared in files: \(error.message)") }
        lookForFirewalls()
        if let connectBus {
            do { bus = try connectBus(self) } catch { logger.warning("no D-Bus API (org.pvd1): \(error)") }
        }
    }

    private func solicit(_ uplink: String) {
        do { try listener.solicit(on: uplink) } catch { logger.warning("router solicitation on \(uplink): \(error)") }
    }

    /// The uplinks with IPv4 of their own (an address and a default route).
    private func ipv4Uplinks() -> Set<String> {
        do { return try host.ipv4Uplinks().filter(listens(on:)) } catch {
            logger.error("reading IPv4 addresses and routes: \(error)")
            return catalog.table.ipv4Uplinks
        }
    }

    /// IPv4 came or went somewhere: domains on an uplink that gained or lost
    /// its IPv4 gain or lose theirs.
    private func followIPv4() {
        let uplinks = ipv4Uplinks()
        guard uplinks != catalog.table.ipv4Uplinks else { return }
        logger.info("uplinks with IPv4: \(uplinks.isEmpty ? "none" : uplinks.sorted().joined(separator: ", "))")
        let now = loop.now
        push(catalog.table.setIPv4Uplinks(uplinks, at: now), at: now)
    }

    func receive() {
        let received: [ReceivedRouterAdvertisement]
        do { received = try listener.receive() } catch {
            logger.error("\(error)")
            return
        }
        let now = loop.now
        var changed: Set<String> = []
        for ra in received where listens(on: ra.interface) {
            do {
                let advertisement = try RouterAdvertisement.parse(ra.message)
                changed.formUnion(catalog.table.observe(advertisement, from: ra.source, on: ra.interface, at: now))
            } catch {
                // Counted, and reported at most every 10 s: a flood must not flood the log.
                malformed += 1
                if now - lastMalformedReport >= 10 {
                    logger.warning("ignored \(malformed) malformed RA(s); latest from \(ra.source)%\(ra.interface): \(error)")
                    malformed = 0
                    lastMalformedReport = now
                }
            }
        }
        reportLimits(at: now)
        push(changed, at: now)
    }

    /// Answers to pvd's probes: a domain whose new address another node owns
    /// moves on to its next one.
    func receiveNeighborAdvertisements(_ prober: any AddressProber) {
        let answers: [NeighborAnswer]
        do { answers = try prober.receive() } catch {
            logger.error("\(error)")
            return
        }
        let now = loop.now
        var changed: Set<String> = []
        for answer in answers {
            guard let conflict = catalog.table.addressInUse(answer.target, on: answer.interface, at: now) else { continue }
            let outcome =
                conflict.gaveUp
                ? "no address in \(conflict.prefix) after \(conflict.conflicts) conflicts"
                : "trying another address in \(conflict.prefix)"
            logger.warning("domain \(conflict.domain): \(conflict.address) is in use on \(answer.interface); \(outcome)")
            changed.insert(conflict.domain)
        }
        if !changed.isEmpty { push(changed, at: now) }
    }

    /// Solicits the addresses the table wants probed.
    private func sendProbes() {
        guard let prober else { return }
        for (uplink, addresses) in catalog.table.takeProbes().sorted(by: { $0.key < $1.key }) {
            do { try prober.solicit(addresses, on: uplink) } catch { logger.warning("duplicate address detection: \(error)") }
        }
    }

    /// What the limits refused since the last report, at most every 10 s.
    private func reportLimits(at now: Double) {
        let counters = catalog.table.counters
        guard counters != reportedCounters, now - lastLimitReport >= 10 else { return }
        let report: String =
            "limits: \(counters.rateLimitedRAs - reportedCounters.rateLimitedRAs) RA(s) over the rate, "
            + "\(counters.refusedDomains - reportedCounters.refusedDomains) new domain(s), "
            + "\(counters.refusedRouters - reportedCounters.refusedRouters) router(s) and "
            + "\(counters.refusedEntries - reportedCounters.refusedEntries) entr(ies) and "
            + "\(counters.refusedDNSServers - reportedCounters.refusedDNSServers) unusable DNS server(s) refused, "
            + "\(counters.refusedPrefixes - reportedCounters.refusedPrefixes) unusable prefix(es) or route(s) refused, "
            + "\(counters.refusedPvDs - reportedCounters.refusedPvDs) PvD(s) whose ID or name cannot be a domain; "
            + "\(catalog.table.domains.count) domain(s)"
        logger.warning("\(report)")
        reportedCounters = counters
        lastLimitReport = now
    }

    func expire() {
        let now = loop.now
        reportLimits(at: now)
        repairIfDue(at: now)
        advanceAdditionalInformation(at: now)
        restartDueVPNs(at: now)
        connectManagement(at: now)
        rollBackIfDue(at: now)
        var due = catalog.table.expire(at: now)
        if let check = nextLingerCheck, check <= now {
            due.formUnion(catalog.lingering.keys)
            nextLingerCheck = nil
        }
        push(due, at: now)
    }

    /// Applies what changed (one log line per domain change, unless `quiet`),
    /// saves the state and re-arms the timer. A learnt domain that went while
    /// programs run inside lingers, keeping its kind and PvD ID.
    func push(_ changed: Set<String>, at now: Double, quiet: Bool = false) {
        sendProbes()
        var changed = changed.subtracting(catalog.reservedNames)
        for name in changed.sorted() {
            if catalog.table.spec(named: name, at: now) == nil {
                if host.hasProcesses(inDomain: name), catalog.linger(name, at: now) {
                    if catalog.lingering[name]?.since == now { logger.info("domain \(name): kept while programs run inside") }
                    changed.remove(name)
                } else {
                    catalog.stopLingering(name)
                }
            } else {
                catalog.stopLingering(name)
            }
        }
        catalog.rememberLearntKeys()
        if !catalog.lingering.isEmpty, nextLingerCheck == nil { nextLingerCheck = now + Runner.lingerCheck }
        let failures = catalog.table.push(changed, to: host, at: now)
        if !changed.isEmpty {
            saveState()
            // The first routed domain: look now; then every 30 s (Runner+Repair.swift).
            if repairs.nextFirewallLook == nil, !keptNames().isEmpty { lookForFirewalls() }
        }
        for name in changed.sorted() where !quiet || failures[name] != nil {
            if let failure = failures[name] {
                logger.error("domain \(name): \(failure)")
            } else if let spec = catalog.table.spec(named: name, at: now) {
                let routers = spec.routers.count + spec.otherUplinks.reduce(0) { $0 + $1.routers.count }
                let uplinks = ([spec.uplink] + spec.otherUplinks.map(\.uplink)).joined(separator: ", ")
                let summary: String =
                    "\(spec.allAddresses.count) address(es), \(routers) router(s), "
                    + "\(spec.dnsServers.count) DNS server(s) on \(uplinks)\(spec.ipv4 ? ", IPv4" : "")"
                logger.info("domain \(name): \(summary)")
            } else {
                logger.info("domain \(name): removed")
            }
        }
        if !changed.isEmpty {
            trackAdditionalInformation(at: now)
            bus?.announce(changed)
        }
        rearm(at: now)
    }

    /// Sets the one timer to the next thing due: an expiry, the lingering
    /// domains' check, an additional-information fetch or expiry, a VPN
    /// restart, a management socket to connect to, a repair, a checkpoint's rollback. Every handler
    /// that changes domains ends here, so the domains' namespaces are
    /// watched from here too.
    func rearm(at now: Double) {
        watchDomains()
        let next = [
            catalog.table.nextExpiry(), nextLingerCheck, information.nextEvent(), catalog.vpns.values.compactMap(\.restartAt).min(),
            management.values.compactMap(\.nextAttempt).min(), repairs.due, repairs.nextFirewallLook, nextCheckpointEvent,
            // Refusals counted since the last report are reported when its 10 s are up, RAs or not.
            catalog.table.counters != reportedCounters ? max(lastLimitReport + 10, now) : nil,
        ].compactMap { $0 }.min()
        do {
            try loop.setTimer(at: next) { [unowned self] in self.expire() }
        } catch {
            logger.error("\(error)")
        }
    }

    /// SIGTERM and SIGINT: everything stays as it is — domains, namespaces,
    /// VPN clients, the programs inside — for the next pvdd to adopt
    /// (`pvdd --cleanup` removes it all).
    func stop(_ signal: Int32) {
        bus?.close()
        saveState()
        for fetch in fetches.values { fetch.kill() }
        logger.info("stopped on signal \(signal); \(catalog.names.count) domain(s) left in place for the next pvdd")
        loop.exit(0)
    }
}
