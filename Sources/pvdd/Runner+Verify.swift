import BusWire
import PvDCore
import PvDWire

/// Verification (org.pvd1 Verify, `pvd verify`, and after every apply):
/// each domain's checks, kept for `pvd show` (the Health property).
extension Runner {
    /// Verifications running at once, at most: each sends solicitations and queries.
    static let maximumVerifications = 8
    /// The names one Verify call may list.
    static let maximumVerifiedNames = 1024
    /// How long the verification after an apply may take.
    static let verificationAfterApply = 60.0

    /// Starts verifying the domains `names`; `done` gets every check when
    /// the last concludes (within `wait` seconds).
    func verify(_ names: [String], wait: Double, done: @escaping ([(domain: String, check: HealthCheck)]) -> Void) throws(BusError) {
        guard verifications.count < Runner.maximumVerifications else {
            throw BusError(PvDBusAPI.ErrorName.busy, "\(Runner.maximumVerifications) verifications are running; try again when one ends")
        }
        let verification = Verification(
            names.compactMap(verificationTarget(of:)), wait: wait, loop: loop,
            observe: { [unowned self] namespace in self.observeKernel(namespace: namespace) },
            vpnState: { [unowned self] name in
                let state = self.domainView(named: name)?.state
                return (state?.name == "connected", state?.reason ?? "the domain is gone")
            })
        let id = ObjectIdentifier(verification)
        verifications[id] = verification
        verification.finished = { [unowned self] results in
            self.verifications[id] = nil
            for name in Set(results.map(\.domain)) { self.health[name] = results.filter { $0.domain == name }.map(\.check) }
            for (name, check) in results where !check.passed { logger.warning("domain \(name): verification: \(check.kind.rawValue): \(check.detail)") }
            self.bus?.announce(Set(results.map(\.domain)))
            done(results)
        }
        verification.start()
    }

    /// What the kernel has in `namespace`; when it cannot be read, whether
    /// the namespace exists (and a warning that says why).
    func observeKernel(namespace: String) -> ObservedDomain {
        do { return try host.observe(namespace: namespace) } catch {
            logger.warning("reading \(namespace)'s kernel state: \(error)")
            return ObservedDomain(namespaceExists: host.namespaceExists(namespace))
        }
    }

    /// Verifies in the background what an apply added or changed.
    func verifyAfterApply(_ changes: [DeclarativeState.Change]) {
        let names = changes.compactMap { change -> String? in
            switch change {
            case .addDomain, .changeDomain, .addVPN, .addNamespace: change.name
            default: nil
            }
        }
        guard !names.isEmpty else { return }
        do { try verify(names, wait: Runner.verificationAfterApply) { _ in } } catch { logger.warning("no verification after the apply: \(error.message)") }
    }

    /// What is verified of `name`: a VPN domain's client, a static or learnt
    /// domain's spec and routers, a bare namespace's existence.
    private func verificationTarget(of name: String) -> Verification.Target? {
        guard let kind = catalog.kind(of: name), let namespace = catalog.namespace(of: name) else { return nil }
        var target = Verification.Target(name: name, namespace: namespace)
        switch kind {
        case .vpn:
            target.connectWithin = Double(catalog.vpns[name]?.connectWithin ?? DeclarativeState.defaultConnectWithin)
        case .namespace:
            break
        case .static, .explicit, .implicit:
            guard let spec = catalog.statics[name] ?? catalog.table.spec(named: name, at: loop.now) else { return target }
            target.wanted = spec
            target.routers = spec.routers.map { ($0, spec.uplink) } + spec.otherUplinks.flatMap { uplink in uplink.routers.map { ($0, uplink.uplink) } }
        }
        return target
    }
}
