import Bus
import HostNet
import PvDConfig
import PvDCore
import PvDWire

/// The domains the D-Bus API shows and changes: learnt ones (from the
/// table), static ones (AddDomain) and bare namespaces (AddNetworkNamespace).
extension Runner {
    /// Every domain's name, sorted: cheap, for lookups and checks.
    func domainNames() -> [String] {
        Set(table.domains.values.map(\.name)).union(lingering).union(statics.keys).union(vpns.keys).union(bareNamespaces).sorted()
    }

    /// Every domain's name and kind, without building its view.
    func domainKinds() -> [(name: String, kind: DomainView.Kind)] {
        domainNames().map { name in
            if let domain = table.domains.values.first(where: { $0.name == name }) {
                if case .explicit = domain.key { return (name, .explicit) }
                return (name, .implicit)
            }
            if lingering.contains(name) { return (name, .implicit) }
            if statics[name] != nil { return (name, .static) }
            if vpns[name] != nil { return (name, .vpn) }
            return (name, .namespace)
        }
    }

    /// What the API shows of one domain, computed for it alone.
    func domainView(named name: String) -> DomainView? {
        if let domain = table.domains.values.first(where: { $0.name == name }) {
            let now = loop.now
            var view = DomainView(name: name, kind: .implicit, spec: table.spec(named: name, at: now),
                                  state: domain.orphanedAt == nil ? "active" : "empty", namespace: DomainNaming.namespacePrefix + name)
            if case .explicit(let id) = domain.key {
                view.kind = .explicit
                view.pvdID = id.description
                view.sequence = domain.sequence ?? 0
                view.flags = [("H", domain.http), ("L", domain.legacy)]
            }
            view.lifetime = domain.routerLifetime(at: now)
            view.additionalInformation = information.entries[name]?.json.serialized ?? ""
            return view
        }
        if lingering.contains(name) {
            return DomainView(name: name, kind: .implicit, state: "lingering", namespace: DomainNaming.namespacePrefix + name)
        }
        if let spec = statics[name] {
            return DomainView(name: name, kind: .static, spec: spec, lifetime: .infinity, state: "active",
                              namespace: DomainNaming.namespacePrefix + name)
        }
        if vpns[name] != nil {
            let tunnel = host.tunnel(in: name)
            var view = DomainView(name: name, kind: .vpn, lifetime: .infinity, state: tunnel == nil ? "connecting" : "connected",
                                  namespace: DomainNaming.namespacePrefix + name)
            view.tunnelAddresses = tunnel?.addresses ?? []
            return view
        }
        if bareNamespaces.contains(name) {
            return DomainView(name: name, kind: .namespace, lifetime: .infinity, state: "active", namespace: name)
        }
        return nil
    }

    /// AddDomain: a static domain from its settings, made at once.
    func addStaticDomain(_ name: String, settings: JSONValue) throws(BusError) {
        try refuseTaken(name)
        guard case .object(let members) = settings else { throw BusError(PvDBusAPI.ErrorName.invalidArguments, "settings must be a{sv}") }
        let known: Set = ["uplink", "attachment", "addresses", "routers", "on_link", "routes", "mtu", "dns", "search"]
        if let unknown = members.first(where: { !known.contains($0.key) }) {
            throw BusError(PvDBusAPI.ErrorName.invalidArguments,
                           "unknown setting \(unknown.key); known: \(known.sorted().joined(separator: ", "))")
        }
        let spec: DomainSpec
        do { spec = try DomainSpec(json: .object([JSONMember("name", .string(name))] + members)) } catch {
            throw BusError(PvDBusAPI.ErrorName.invalidArguments, "setting \(error)")
        }
        do { try host.apply(spec) } catch { throw BusError(PvDBusAPI.ErrorName.failed, "\(error)") }
        statics[name] = spec
        logger.info("domain \(name): added (static) on \(spec.uplink)")
        saveState()
        bus?.announce([name])
    }

    /// RemoveDomain: static domains and bare namespaces go; learnt ones go with their routers.
    func removeDomain(_ name: String) throws(BusError) {
        if vpns[name] != nil {
            do { try removeVPNDomain(name) } catch { throw BusError(PvDBusAPI.ErrorName.failed, "\(error)") }
        } else if statics[name] != nil {
            do { try host.remove([name]) } catch { throw BusError(PvDBusAPI.ErrorName.failed, "\(error)") }
            statics[name] = nil
        } else if bareNamespaces.contains(name) {
            do { try KernelHostNet.deleteNamespace(name) } catch { throw BusError(PvDBusAPI.ErrorName.failed, "\(error)") }
            bareNamespaces.remove(name)
        } else {
            throw BusError(PvDBusAPI.ErrorName.notRemovable,
                           "\(name) was learnt from Router Advertisements; it goes when its routers withdraw it")
        }
        logger.info("domain \(name): removed")
        saveState()
        bus?.announce([name])
    }

    /// AddNetworkNamespace: a bare /run/netns/NAME with `lo` up.
    func addBareNamespace(_ name: String) throws(BusError) {
        try refuseTaken(name)
        guard !KernelHostNet.namespaceExists(name) else {
            throw BusError(PvDBusAPI.ErrorName.exists, "/run/netns/\(name) exists already")
        }
        do { try KernelHostNet.createBareNamespace(name) } catch { throw BusError(PvDBusAPI.ErrorName.failed, "\(error)") }
        bareNamespaces.insert(name)
        logger.info("namespace \(name): added")
        saveState()
        bus?.announce([name])
    }

    private func refuseTaken(_ name: String) throws(BusError) {
        guard !domainNames().contains(name) else {
            throw BusError(PvDBusAPI.ErrorName.exists, "a domain called \(name) exists already")
        }
    }
}

/// ApplyState and GetState: the declared state (static domains and bare
/// namespaces) as a whole, all or nothing.
extension Runner {
    var declaredState: DeclarativeState {
        DeclarativeState(domains: Array(statics.values),
                         vpns: vpns.map { DeclarativeState.VPN(name: $0.key, openVPNConfig: $0.value.config) },
                         namespaces: Array(bareNamespaces))
    }

    /// Makes the declared state `text` (YAML) true; returns the changes
    /// (only computes them with `dryRun`). A failed step undoes the steps
    /// before it and the error names the step.
    func applyState(_ text: String, dryRun: Bool) throws(BusError) -> [String] {
        let target: DeclarativeState
        do { target = try DeclarativeState(try YAMLDocument.parse(text)) } catch {
            throw BusError(PvDBusAPI.ErrorName.invalidArguments, "the state: \(error)")
        }
        let learnt = Set(table.domains.values.map(\.name)).union(lingering)
        for name in target.domains.map(\.name) + target.namespaces where learnt.contains(name) {
            throw BusError(PvDBusAPI.ErrorName.exists, "\(name) is a domain learnt from Router Advertisements")
        }
        for name in target.namespaces where !bareNamespaces.contains(name) && KernelHostNet.namespaceExists(name) {
            throw BusError(PvDBusAPI.ErrorName.exists, "/run/netns/\(name) exists and is not pvd's")
        }
        let before = declaredState
        let changes = before.changes(to: target)
        if dryRun || changes.isEmpty { return changes.map(\.description) }
        var done: [(DeclarativeState.Change, DomainSpec?, VPNDomain?)] = []
        for change in changes {
            let old: DomainSpec? = switch change {
            case .changeDomain(let spec): statics[spec.name]
            case .removeDomain(let name): statics[name]
            default: nil
            }
            let oldVPN: VPNDomain? = if case .removeVPN(let name) = change { vpns[name] } else { nil }
            do { try perform(change) } catch {
                for (step, previous, previousVPN) in done.reversed() { undo(step, previous: previous, previousVPN: previousVPN) }
                saveState()
                let reason = (error as? BusError)?.message ?? "\(error)"
                throw BusError(PvDBusAPI.ErrorName.failed, "\(change) failed, and the changes before it were undone: \(reason)")
            }
            done.append((change, old, oldVPN))
            logger.info("state: \(change)")
        }
        saveState()
        bus?.announce(Set(changes.map(\.name)))
        return changes.map(\.description)
    }

    private func perform(_ change: DeclarativeState.Change) throws {
        switch change {
        case .addDomain(let spec):
            try host.apply(spec)
            statics[spec.name] = spec
        case .changeDomain(let spec):
            if let old = statics[spec.name], old.uplink != spec.uplink || old.attachment != spec.attachment {
                try host.remove([spec.name])  // an attachment is not changed in place
                statics[spec.name] = nil
            }
            try host.apply(spec)
            statics[spec.name] = spec
        case .removeDomain(let name):
            try host.remove([name])
            statics[name] = nil
        case .addVPN(let vpn):
            try makeVPNDomain(vpn.name, config: vpn.openVPNConfig)
        case .removeVPN(let name):
            try removeVPNDomain(name)
        case .addNamespace(let name):
            try KernelHostNet.createBareNamespace(name)
            bareNamespaces.insert(name)
        case .removeNamespace(let name):
            try KernelHostNet.deleteNamespace(name)
            bareNamespaces.remove(name)
        }
    }

    /// Puts back what one done step changed (best effort; failures are logged).
    private func undo(_ change: DeclarativeState.Change, previous: DomainSpec?, previousVPN: VPNDomain?) {
        do {
            switch change {
            case .addDomain(let spec): try perform(.removeDomain(spec.name))
            case .changeDomain, .removeDomain:
                if let previous { try perform(.changeDomain(previous)) }
            case .addVPN(let vpn): try perform(.removeVPN(vpn.name))
            case .removeVPN(let name):
                if let previousVPN { try perform(.addVPN(DeclarativeState.VPN(name: name, openVPNConfig: previousVPN.config))) }
            case .addNamespace(let name): try perform(.removeNamespace(name))
            case .removeNamespace(let name): try perform(.addNamespace(name))
            }
        } catch {
            logger.error("undoing \(change): \(error)")
        }
    }
}

private extension DeclarativeState.Change {
    var name: String {
        switch self {
        case .addDomain(let spec), .changeDomain(let spec): spec.name
        case .addVPN(let vpn): vpn.name
        case .removeDomain(let name), .removeVPN(let name), .addNamespace(let name), .removeNamespace(let name): name
        }
    }
}
