import Bus
import Glibc
import HostNet
import NDP
import PvDCore
import PvDWire

/// The daemon's state and handlers; everything runs on the event loop's thread.
final class Runner {
    let settings: DaemonConfiguration
    /// The uplinks named in the settings; nil: every interface but `lo` and pvd's own.
    let uplinks: Set<String>?
    var persist: Bool { settings.persist }
    var statePath: String { settings.statePath }
    /// `statePath` split into its directory and file name (validated absolute).
    var stateDirectory: String { String(statePath[..<statePath.lastIndex(of: "/")!]) }
    var stateFile: String { String(statePath[statePath.index(after: statePath.lastIndex(of: "/")!)...]) }
    let loop: EventLoop
    let listener: RouterAdvertisementListener
    let links: LinkMonitor
    /// Duplicate address detection on the uplinks; nil when the settings turn it off.
    let prober: NeighborProber?
    /// How long a new address is probed: one solicitation, RFC 4862's RetransTimer.
    static let addressProbeTime = 1.0
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
    /// RFC 8801 additional information: the schedule, and the fetches running by domain.
    var information = AdditionalInformationTable()
    var fetches: [String: ChildProcess] = [:]
    /// The D-Bus service; nil when there is no system bus.
    var bus: DaemonBus?
    /// Domains added over D-Bus (static), and bare namespaces made for the
    /// NetworkManager fork's AddNetworkNamespace.
    var statics: [String: DomainSpec] = [:]
    var bareNamespaces: Set<String> = []
    /// VPN domains and their OpenVPN clients.
    var vpns: [String: VPNDomain] = [:]

    init(settings: DaemonConfiguration) throws {
        self.settings = settings
        uplinks = settings.uplinks.isEmpty ? nil : Set(settings.uplinks)
        EventLoop.blockChildSignal()  // before any thread starts, so that every thread has it blocked
        loop = try EventLoop()
        listener = try RouterAdvertisementListener()
        links = try LinkMonitor()
        prober = settings.duplicateAddressDetection ? try NeighborProber() : nil
        host = try KernelHostNet()
        host.forwarding = settings.forwarding
        let probeTime = settings.duplicateAddressDetection ? Runner.addressProbeTime : nil
        table = DomainTable(secret: hostSecret(), gracePeriod: settings.gracePeriod,
                            aliases: settings.aliases, attachments: settings.attachments, addressProbeTime: probeTime)
        do {
            if let bytes = try HostFiles.readOwnFile(settings.statePath, limit: SavedState.maximumBytes) {
                let saved = SavedState(bytes: bytes, empty: table)
                for reason in saved.dropped { logger.warning("\(statePath): dropped \(reason)") }
                table = saved.table
                for spec in saved.statics { statics[spec.name] = spec }
                bareNamespaces = Set(saved.namespaces.filter(KernelHostNet.namespaceExists))
                for vpn in saved.vpns { vpns[vpn.name] = VPNDomain(config: vpn.config, pid: vpn.pid) }
            }
        } catch {
            logger.warning("not reading \(statePath): \(error)")
        }
    }

    /// Whether RAs heard on `interface` count.
    func listens(on interface: String) -> Bool {
        if let uplinks { return uplinks.contains(interface) }
        return interface != "lo" && DomainNaming.slot(ofHostLink: interface) == nil
    }

    /// Carries on after a restart: re-applies every domain of the saved state
    /// (HostNet changes nothing where the kernel already matches, so programs
    /// inside are not disturbed), then removes what no domain owns any more.
    private func adopt() {
        let now = loop.now
        for spec in statics.values.sorted(by: { $0.name < $1.name }) {
            do { try host.apply(spec) } catch { logger.error("domain \(spec.name): \(error)") }
        }
        let learnt = Set(table.domains.values.map(\.name))
        let names = learnt.union(statics.keys).union(vpns.keys)
        for name in vpns.keys.sorted() { resumeVPN(name) }
        push(learnt.union(table.expire(at: now)), at: now, quiet: true)
        do {
            let removed = try host.removeLeftovers(keeping: names)
            for name in removed { logger.info("domain \(name): removed (left over)") }
        } catch {
            logger.error("removing leftovers: \(error)")
        }
        // A firewall reload while pvdd was away may have flushed the forward filter.
        do { try host.restoreForwardFilter() } catch { logger.error("\(error)") }
        logger.info("carrying on with \(names.count) domain(s) from \(statePath)")
    }

    /// The state file: the table's state, what the fetches found, and the
    /// static and VPN domains and namespaces.
    var stateDocument: JSONValue {
        guard case .object(var members) = table.state else { return table.state }
        let entries = information.entries.sorted { $0.key < $1.key }.map { JSONMember($0.key, $0.value.json) }
        members.append(JSONMember("additional_information", .object(entries)))
        members.append(JSONMember("static_domains", .array(statics.values.sorted { $0.name < $1.name }.map(\.json))))
        members.append(JSONMember("namespaces", .array(bareNamespaces.sorted().map(JSONValue.string))))
        members.append(JSONMember("vpn_domains", vpnState))
        return .object(members)
    }

    /// Writes the table to the state file (atomically).
    func saveState() {
        do {
            try HostFiles.writeAtomically(directory: stateDirectory, name: stateFile, contents: stateDocument.serialized + "\n")
        } catch {
            logger.error("saving state: \(error)")
        }
    }

    func run() -> Int32 {
        do {
            try loop.watch(listener.descriptor) { [unowned self] in self.receive() }
            host.solicitRouters = { [unowned self] interface in self.solicit(interface) }
            try loop.watch(links.descriptor) { [unowned self] in
                // A link that comes (back) up gets a solicitation as soon as its link-local
                // address is usable, so its routers answer at once.
                let news = self.links.receive()
                for uplink in news.ready where self.listens(on: uplink) { self.solicit(uplink) }
                if news.ipv4Changed { self.followIPv4() }
            }
            if let prober {
                try loop.watch(prober.descriptor) { [unowned self] in self.receiveNeighborAdvertisements(prober) }
            }
            try loop.onSignals([SIGTERM, SIGINT]) { [unowned self] signal in self.stop(signal) }
            let present = uplinks.map { Array($0) } ?? LinkMonitor.interfaceNames().filter(listens(on:))
            present.sorted().forEach(solicit)
            _ = table.setIPv4Uplinks(ipv4Uplinks(), at: loop.now)
            adopt()
            do { bus = try DaemonBus(runner: self) } catch { logger.warning("no D-Bus API (org.pvd1): \(error)") }
            EventLoop.notifyReady()
            logger.info("listening on \(uplinks.map { $0.sorted().joined(separator: ", ") } ?? "every interface")")
            return try loop.run()
        } catch {
            logger.error("\(error)")
            return 1
        }
    }

    /// The uplinks with IPv4 of their own (an address and a default route).
    private func ipv4Uplinks() -> Set<String> {
        do { return try host.ipv4Uplinks().filter(listens(on:)) } catch {
            logger.error("reading IPv4 addresses and routes: \(error)")
            return table.ipv4Uplinks
        }
    }

    /// IPv4 came or went somewhere: domains on an uplink that gained or lost
    /// its IPv4 gain or lose theirs.
    private func followIPv4() {
        let uplinks = ipv4Uplinks()
        guard uplinks != table.ipv4Uplinks else { return }
        logger.info("uplinks with IPv4: \(uplinks.isEmpty ? "none" : uplinks.sorted().joined(separator: ", "))")
        let now = loop.now
        push(table.setIPv4Uplinks(uplinks, at: now), at: now)
    }

    private func solicit(_ uplink: String) {
        do { try listener.solicit(on: uplink) } catch { logger.warning("router solicitation on \(uplink): \(error)") }
    }

    private func receive() {
        let received: [ReceivedRouterAdvertisement]
        do { received = try listener.receive() } catch {
            logger.error("\(error)")
            return
        }
        let now = loop.now
        var changed: Set<String> = []
        reserveNames()
        for ra in received where listens(on: ra.interface) {
            do {
                let advertisement = try RouterAdvertisement.parse(ra.message)
                changed.formUnion(table.observe(advertisement, from: ra.source, on: ra.interface, at: now))
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
        push(changed, at: now)
        reportLimits(at: now)
    }

    /// Answers to pvd's probes: a domain whose new address another node owns
    /// moves on to its next one.
    private func receiveNeighborAdvertisements(_ prober: NeighborProber) {
        let answers: [NeighborAnswer]
        do { answers = try prober.receive() } catch {
            logger.error("\(error)")
            return
        }
        let now = loop.now
        var changed: Set<String> = []
        for answer in answers {
            guard let conflict = table.addressInUse(answer.target, on: answer.interface, at: now) else { continue }
            let outcome = conflict.gaveUp ? "no address in \(conflict.prefix) after \(conflict.conflicts) conflicts"
                                          : "trying another address in \(conflict.prefix)"
            logger.warning("domain \(conflict.domain): \(conflict.address) is in use on \(answer.interface); \(outcome)")
            changed.insert(conflict.domain)
        }
        if !changed.isEmpty { push(changed, at: now) }
    }

    /// Solicits the addresses the table wants probed.
    private func sendProbes() {
        guard let prober else { return }
        for (uplink, addresses) in table.takeProbes().sorted(by: { $0.key < $1.key }) {
            do { try prober.solicit(addresses, on: uplink) } catch { logger.warning("duplicate address detection: \(error)") }
        }
    }

    /// The names static, VPN and namespace domains hold, which no PvD may take.
    private func reserveNames() {
        table.reservedNames = Set(statics.keys).union(vpns.keys).union(bareNamespaces)
    }

    /// What the limits refused since the last report, at most every 10 s.
    private func reportLimits(at now: Double) {
        let counters = table.counters
        guard counters != reportedCounters, now - lastLimitReport >= 10 else { return }
        let report: String = "limits: \(counters.rateLimitedRAs - reportedCounters.rateLimitedRAs) RA(s) over the rate, "
            + "\(counters.refusedDomains - reportedCounters.refusedDomains) new domain(s), "
            + "\(counters.refusedRouters - reportedCounters.refusedRouters) router(s) and "
            + "\(counters.refusedEntries - reportedCounters.refusedEntries) entr(ies) and "
            + "\(counters.refusedDNSServers - reportedCounters.refusedDNSServers) unusable DNS server(s) refused, "
            + "\(counters.refusedPvDs - reportedCounters.refusedPvDs) PvD(s) whose ID or name cannot be a domain; "
            + "\(table.domains.count) domain(s)"
        logger.warning("\(report)")
        reportedCounters = counters
        lastLimitReport = now
    }

    private func expire() {
        let now = loop.now
        advanceAdditionalInformation(at: now)
        restartDueVPNs(at: now)
        // Lingering domains whose last program has gone (or that came back) are handled again.
        push(table.expire(at: now).union(lingering), at: now)
    }

    /// Applies what changed (one log line per domain change, unless `quiet`),
    /// saves the state and re-arms the expiry timer.
    private func push(_ changed: Set<String>, at now: Double, quiet: Bool = false) {
        sendProbes()
        reserveNames()
        // A static domain's name is taken: a PvD that would have it stays out.
        var changed = changed.subtracting(statics.keys).subtracting(vpns.keys)
        for name in changed.sorted() where table.spec(named: name, at: now) == nil {
            if host.hasProcesses(inDomain: name) {
                if lingering.insert(name).inserted { logger.info("domain \(name): kept while programs run inside") }
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
                logger.error("domain \(name): \(failure)")
            } else if let spec = table.spec(named: name, at: now) {
                let routers = spec.routers.count + spec.otherUplinks.reduce(0) { $0 + $1.routers.count }
                let uplinks = ([spec.uplink] + spec.otherUplinks.map(\.uplink)).joined(separator: ", ")
                let summary: String = "\(spec.allAddresses.count) address(es), \(routers) router(s), "
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

    /// Sets the one timer to the next thing due: an expiry, a lingering
    /// domain's check, an additional-information fetch or expiry.
    func rearm(at now: Double) {
        let nextCheck = lingering.isEmpty ? nil : now + Runner.lingerCheck
        let next = [table.nextExpiry(), nextCheck, information.nextEvent(), vpns.values.compactMap(\.restartAt).min()]
            .compactMap { $0 }.min()
        do {
            try loop.setTimer(at: next) { [unowned self] in self.expire() }
        } catch {
            logger.error("\(error)")
        }
    }

    private func stop(_ signal: Int32) {
        bus?.close()
        if !persist {
            for name in vpns.keys { stopOpenVPN(name) }
            let names = table.specs(at: loop.now).map(\.name) + lingering.sorted() + statics.keys.sorted() + vpns.keys.sorted()
            for name in bareNamespaces.sorted() {
                do { try KernelHostNet.deleteNamespace(name) } catch { logger.error("\(error)") }
            }
            do { try host.remove(names) } catch { logger.error("removing domains: \(error)") }
            do {
                try HostFiles.remove(directory: stateDirectory, name: stateFile)
            } catch {
                logger.error("removing \(statePath): \(error)")
            }
            logger.info("stopped on signal \(signal); removed \(names.count) domain(s)")
        } else {
            logger.info("stopped on signal \(signal); domains left in place")
        }
        for fetch in fetches.values { fetch.kill() }
        loop.exit(0)
    }
}

