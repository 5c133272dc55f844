import Glibc
import LinuxSystem
import NDP
import PvDCore
import PvDWire

/// One verification of some domains (org.pvd1 Verify, and after every
/// apply): what was asked against what the kernel has, whether each router
/// answers a Neighbor Solicitation on its uplink, whether each DNS server
/// answers a query sent from inside the domain, and whether a VPN domain's
/// client connected within its bound. Every check is looked at again every
/// ``tick`` until it passes or its time is up, so a verification right after
/// an apply waits for addresses to settle and clients to connect, and never
/// holds the loop: solicitations and queries go out, answers come back
/// through the loop.
final class Verification {
    /// What is verified of one domain.
    struct Target {
        var name: String
        var namespace: String
        /// What was asked of the kernel; nil: the namespace alone (VPN, bare).
        var wanted: DomainSpec?
        /// Routers to solicit, each with its uplink.
        var routers: [(address: IPv6Address, uplink: String)] = []
        /// How long a VPN domain's client may take to connect; nil: not a VPN domain.
        var connectWithin: Double?
    }

    static let tick = 0.5
    /// How long kernel, router and DNS checks may take.
    static let checkSeconds = 5.0
    /// How often an unanswered solicitation or query is sent again.
    static let resendSeconds = 1.0

    private let targets: [Target]
    private let loop: any DaemonLoop
    private let started: Double
    private let wait: Double
    private let observe: (String) -> ObservedDomain
    private let vpnState: (String) -> (connected: Bool, reason: String)
    private var concluded: [String: [HealthCheck.Kind: HealthCheck]] = [:]
    private var routerAnswers: Set<String> = []
    private var prober: NeighborProber?
    private var proberWatch: ObjectIdentifier?
    /// Each domain's DNS probe: a socket inside it, open at most ``checkSeconds``.
    private var dns: [String: DNSProbe] = [:]
    private struct DNSProbe {
        var socket: DatagramSocket
        var servers: [String]
        var ids: [UInt16]
        var answered: Set<Int> = []
        var watch: ObjectIdentifier?
        var opened: Double

        func ask(_ index: Int) { _ = socket.send(DNSMessage.query(id: ids[index], name: Verification.queryName, type: .aaaa), toPeer: index) }
    }
    private var timer: ObjectIdentifier?
    private var lastSent = -Double.infinity
    /// Called once, with every check of every target, in order.
    var finished: (([(domain: String, check: HealthCheck)]) -> Void)?

    /// `wait`: the longest any check may take (a VPN's bound is cut to it).
    init(
        _ targets: [Target], wait: Double, loop: any DaemonLoop, observe: @escaping (String) -> ObservedDomain,
        vpnState: @escaping (String) -> (connected: Bool, reason: String)
    ) {
        self.targets = targets
        self.loop = loop
        self.wait = wait
        self.observe = observe
        self.vpnState = vpnState
        started = loop.now
    }

    /// Opens what the checks need, then looks at every check now.
    func start() {
        if targets.contains(where: { !$0.routers.isEmpty }) {
            do {
                let prober = try NeighborProber()
                self.prober = prober
                proberWatch = try loop.watchUntilStopped(prober.descriptor, name: "a verification's Neighbor Advertisement") {
                    [unowned self] in self.receiveAdvertisements()
                }
            } catch {
                for target in targets where !target.routers.isEmpty {
                    conclude(target.name, HealthCheck(.router, passed: false, "cannot solicit: \(error)"))
                }
            }
        }
        evaluate()
    }

    // MARK: Checks

    /// Looks at every check not yet concluded; ends when none is left.
    private func evaluate() {
        let now = loop.now
        let elapsed = now - started
        let timeUp = elapsed >= min(wait, Verification.checkSeconds)
        let resend = now - lastSent >= Verification.resendSeconds
        if resend { lastSent = now }
        for target in targets {
            evaluateKernel(target, timeUp: timeUp)
            evaluateRouters(target, timeUp: timeUp, resend: resend)
            evaluateVPN(target, elapsed: elapsed)
            // A VPN domain's DNS servers come with its tunnel: they have its time.
            evaluateDNS(target, timeUp: target.connectWithin.map { elapsed >= min($0, wait) } ?? timeUp, resend: resend)
        }
        if targets.allSatisfy({ expectedKinds(of: $0).isSubset(of: concluded[$0.name]?.keys.map { $0 } ?? []) }) {
            return end()
        }
        if let timer { loop.stopWatching(timer) }
        do {
            timer = try loop.addTimer(at: now + Verification.tick, name: "a verification") { [unowned self] in
                self.timer = nil
                self.evaluate()
            }
        } catch {
            logger.error("verification: \(error)")
            end()
        }
    }

    private func evaluateKernel(_ target: Target, timeUp: Bool) {
        let kinds = [HealthCheck.Kind.namespace, .addresses, .routes, .resolvConf].filter(expectedKinds(of: target).contains)
        guard kinds.contains(where: { concluded[target.name]?[$0] == nil }) else { return }
        let checks = KernelVerification.checks(wanted: target.wanted, observed: observe(target.namespace))
        guard timeUp || checks.allSatisfy(\.passed) else { return }
        for check in checks { conclude(target.name, check) }
        // A namespace that is not there leaves nothing else to look at.
        if checks.first?.passed == false {
            for kind in expectedKinds(of: target) where concluded[target.name]?[kind] == nil {
                conclude(target.name, HealthCheck(kind, passed: false, "not checked: no namespace"))
            }
        }
    }

    private func evaluateRouters(_ target: Target, timeUp: Bool, resend: Bool) {
        guard !target.routers.isEmpty, concluded[target.name]?[.router] == nil, let prober else { return }
        let silent = target.routers.filter { !routerAnswers.contains("\($0.address)%\($0.uplink)") }
        if silent.isEmpty {
            return conclude(
                target.name, HealthCheck(.router, passed: true, target.routers.map { "\($0.address) on \($0.uplink)" }.joined(separator: ", ") + " answered"))
        }
        if timeUp {
            let names = silent.map { "\($0.address) on \($0.uplink)" }.joined(separator: ", ")
            return conclude(
                target.name,
                HealthCheck(.router, passed: false, "\(names) did not answer a Neighbor Solicitation within \(Int(min(wait, Verification.checkSeconds))) s"))
        }
        guard resend else { return }
        for router in silent {
            do { try prober.solicit([router.address], on: router.uplink) } catch {
                conclude(target.name, HealthCheck(.router, passed: false, "cannot solicit \(router.address) on \(router.uplink): \(error)"))
            }
        }
    }

    private func evaluateDNS(_ target: Target, timeUp: Bool, resend: Bool) {
        guard concluded[target.name]?[.dns] == nil, expectedKinds(of: target).contains(.dns) else { return }
        if dns[target.name] == nil {
            let servers = observe(target.namespace).nameservers
            if !servers.isEmpty, target.connectWithin == nil || vpnState(target.name).connected { openDNS(for: target, servers: servers) }
        }
        guard let probe = dns[target.name] else {
            // A tunnel need not give DNS servers (a WireGuard peer often does not); a static or learnt domain was asked for some.
            if target.connectWithin != nil, vpnState(target.name).connected {
                conclude(target.name, HealthCheck(.dns, passed: true, "the tunnel gives no DNS server: nothing to ask"))
            } else if timeUp {
                conclude(target.name, HealthCheck(.dns, passed: false, "its resolv.conf names no DNS server"))
            }
            return
        }
        if probe.answered.count == probe.servers.count {
            closeDNS(target.name)
            return conclude(target.name, HealthCheck(.dns, passed: true, probe.servers.joined(separator: ", ") + " answered"))
        }
        if timeUp || loop.now - probe.opened >= min(wait, Verification.checkSeconds) {
            let silent = probe.servers.indices.filter { !probe.answered.contains($0) }.map { probe.servers[$0] }
            closeDNS(target.name)
            return conclude(
                target.name,
                HealthCheck(
                    .dns, passed: false,
                    silent.joined(separator: ", ") + " did not answer from inside the domain within \(Int(min(wait, Verification.checkSeconds))) s"))
        }
        guard resend else { return }
        for index in probe.servers.indices where !probe.answered.contains(index) { probe.ask(index) }
    }

    private func evaluateVPN(_ target: Target, elapsed: Double) {
        guard let bound = target.connectWithin, concluded[target.name]?[.vpn] == nil else { return }
        let state = vpnState(target.name)
        if state.connected { return conclude(target.name, HealthCheck(.vpn, passed: true, "connected: \(state.reason)")) }
        let limit = min(bound, wait)
        guard elapsed >= limit else { return }
        conclude(target.name, HealthCheck(.vpn, passed: false, "not connected within \(Int(limit)) s: \(state.reason)"))
        if concluded[target.name]?[.dns] == nil { conclude(target.name, HealthCheck(.dns, passed: false, "not checked: the VPN is not connected")) }
    }

    /// What is checked of a target.
    private func expectedKinds(of target: Target) -> Set<HealthCheck.Kind> {
        var kinds: Set<HealthCheck.Kind> = [.namespace]
        if target.wanted != nil { kinds.formUnion([.addresses, .routes, .resolvConf]) }
        if !target.routers.isEmpty { kinds.insert(.router) }
        if target.connectWithin != nil { kinds.insert(.vpn) }
        if target.connectWithin != nil || !(target.wanted?.dnsServers.isEmpty ?? true) { kinds.insert(.dns) }
        return kinds
    }

    private func conclude(_ name: String, _ check: HealthCheck) {
        guard concluded[name]?[check.kind] == nil else { return }
        var check = check
        check.time = SystemClock.unixTime
        concluded[name, default: [:]][check.kind] = check
    }

    // MARK: Answers

    /// A name no server has, so that every server answers at once (NXDOMAIN), from its cache or not.
    static let queryName = try! DomainName("pvd-verify.invalid")

    private func openDNS(for target: Target, servers: [String]) {
        do {
            let socket = try DatagramSocket(inNamespace: target.namespace, peers: servers, port: 53)
            let ids = servers.map { _ in UInt16.random(in: 0...UInt16.max) }
            let watch = try loop.watchUntilStopped(socket.descriptor, name: "a verification's DNS answer") { [unowned self] in
                self.receiveDNS(target.name)
            }
            let probe = DNSProbe(socket: socket, servers: servers, ids: ids, watch: watch, opened: loop.now)
            for index in servers.indices { probe.ask(index) }
            dns[target.name] = probe
        } catch {
            conclude(target.name, HealthCheck(.dns, passed: false, "cannot query from inside the domain: \(error)"))
        }
    }

    private func receiveDNS(_ name: String) {
        guard var probe = dns[name] else { return }
        while let (bytes, peer) = probe.socket.receive() {
            // Any answer counts (NXDOMAIN, REFUSED): the server is there and reachable from inside.
            guard let peer, bytes.count >= 12, bytes[2] & 0x80 != 0, UInt16(bytes[0]) << 8 | UInt16(bytes[1]) == probe.ids[peer] else { continue }
            probe.answered.insert(peer)
        }
        dns[name] = probe
    }

    private func receiveAdvertisements() {
        guard let prober else { return }
        do {
            for answer in try prober.receive() { routerAnswers.insert("\(answer.target)%\(answer.interface)") }
        } catch {
            logger.warning("verification: \(error)")
        }
    }

    private func closeDNS(_ name: String) {
        if let watch = dns[name]?.watch { loop.stopWatching(watch) }
        dns[name] = nil
    }

    /// Closes every socket and timer, then reports, once.
    private func end() {
        withExtendedLifetime(self) {
            for name in Array(dns.keys) { closeDNS(name) }
            if let proberWatch { loop.stopWatching(proberWatch) }
            if let timer { loop.stopWatching(timer) }
            (proberWatch, timer, prober) = (nil, nil, nil)
            let results = targets.flatMap { target in
                HealthCheck.Kind.allCases.compactMap { kind in concluded[target.name]?[kind].map { (target.name, $0) } }
            }
            let finished = finished
            self.finished = nil
            finished?(results)
        }
    }
}
