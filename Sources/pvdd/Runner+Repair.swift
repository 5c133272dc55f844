import HostNet
import PvDCore

/// pvdd keeps what it made as it made it. When something is deleted or set
/// down, or a forwarding setting changes — in the host's namespace or in a
/// domain's — by another program (NetworkManager, a person with `ip`), the
/// domains concerned are applied again shortly after: HostNet changes only
/// what differs from the domain's spec, and what it put back is logged.
/// pvdd's own changes are heard too; applying again then finds nothing to do.
extension Runner {
    /// What is to be applied again, and the namespaces watched.
    struct Repairs {
        /// When to look; nil: nothing was taken.
        var due: Double?
        /// The domains something was taken from in their own namespaces.
        var domains: Set<String> = []
        /// Whether something was taken in the host's namespace.
        var everyDomain = false
        /// A monitor in each kept domain's namespace, with its watch on the loop.
        var monitors: [String: (monitor: any LinkEventSource, watch: ObjectIdentifier)] = [:]
        /// Other tables' chains that drop what the host forwards, read at
        /// start, with the first routed domain and every 30 s while there are
        /// any: shown in routed domains' states.
        var forwardDrops: [ForwardDropChain] = []
        /// When to read the chains again (a firewall may come at any time).
        var nextFirewallLook: Double?
    }

    /// How often the chains are read again while there are routed domains.
    static let firewallLookInterval = 30.0

    /// How long after the first change pvdd looks: changes come in bursts
    /// (a link set down takes its routes with it).
    static let repairDelay = 0.2

    /// Something was taken in a domain's namespace, or (`domain` nil) in the
    /// host's, where any domain may have lost something.
    func somethingTaken(inDomain domain: String?) {
        if let domain { repairs.domains.insert(domain) } else { repairs.everyDomain = true }
        guard repairs.due == nil else { return }
        repairs.due = loop.now + Runner.repairDelay
        rearm(at: loop.now)
    }

    /// Applies again the domains something was taken from, once their time has come.
    func repairIfDue(at now: Double) {
        if let look = repairs.nextFirewallLook, look <= now { lookForFirewalls() }
        guard let due = repairs.due, due <= now else { return }
        let names: Set<String>? = repairs.everyDomain ? nil : repairs.domains
        repairs.due = nil
        repairs.domains = []
        repairs.everyDomain = false
        for spec in keptSpecs(at: now) where names?.contains(spec.name) ?? true {
            do {
                let changes = try host.repair(spec)
                if !changes.isEmpty {
                    logger.warning("domain \(spec.name): put back what another program changed: \(changes.joined(separator: "; "))")
                }
            } catch {
                logger.error("domain \(spec.name): \(error)")
            }
        }
    }

    /// Reads the host's nftables chains again: a firewall whose forward
    /// chain drops by default cuts every routed domain off, and pvd's own
    /// table cannot let the traffic through it (docs/host.md says what to add).
    func lookForFirewalls() {
        repairs.nextFirewallLook = keptNames().isEmpty ? nil : loop.now + Runner.firewallLookInterval
        let found: [ForwardDropChain]
        do { found = try host.forwardDropChains() } catch {
            logger.error("\(error)")
            return
        }
        guard found != repairs.forwardDrops else { return }
        repairs.forwardDrops = found
        if !found.isEmpty {
            logger.warning("what domains send is dropped by \(found.map(\.description).joined(separator: ", ")); see docs/host.md, \"A firewall\"")
        }
    }

    /// The domains whose kernel state HostNet keeps: static and learnt ones
    /// (a VPN domain's tunnel is its client's).
    func keptSpecs(at now: Double) -> [DomainSpec] {
        let learnt = catalog.table.specs(at: now).filter { !catalog.reservedNames.contains($0.name) }
        return catalog.statics.values.sorted { $0.name < $1.name } + learnt
    }

    /// The names of ``keptSpecs(at:)``, without computing the specs.
    func keptNames() -> Set<String> {
        Set(catalog.statics.keys).union(catalog.table.domains.values.map(\.name).filter { !catalog.reservedNames.contains($0) })
    }

    /// One monitor in each kept domain's namespace: made for a domain that
    /// has none yet, dropped for one that is no longer kept.
    func watchDomains() {
        let names = keptNames()
        stopWatching(repairs.monitors.keys.filter { !names.contains($0) })
        for name in names.sorted() where repairs.monitors[name] == nil && host.namespaceExists(DomainNaming.namespace(ofDomain: name)) {
            do {
                let monitor = try host.monitor(ofDomain: name)
                let watch = try loop.watchUntilStopped(monitor.descriptor, name: "domain \(name)'s monitor") { [unowned self] in
                    if monitor.receive().somethingTaken { self.somethingTaken(inDomain: name) }
                }
                repairs.monitors[name] = (monitor, watch)
            } catch {
                logger.error("domain \(name): cannot watch its namespace: \(error)")
            }
        }
    }

    /// Closes the monitors of `names` (before their namespaces go: a socket
    /// inside keeps a namespace alive).
    func stopWatching(_ names: [String]) {
        for name in names {
            guard let entry = repairs.monitors.removeValue(forKey: name) else { continue }
            loop.stopWatching(entry.watch)
        }
    }
}
