import BusWire
import Glibc
import LinuxSystem
import PvDConfig
import PvDCore
import PvDWire
import UserDatabase

/// The domains the D-Bus API shows and changes, all kept by the catalog:
/// learnt ones, static ones (AddDomain, files, `pvd apply`), VPN domains and
/// bare namespaces (AddNetworkNamespace).
extension Runner {
    /// Every domain's name, sorted: cheap, for lookups and checks.
    func domainNames() -> [String] { catalog.names }

    /// What the API shows of one domain, computed for it alone.
    func domainView(named name: String) -> DomainView? {
        guard let kind = catalog.kind(of: name) else { return nil }
        let now = loop.now
        let tunnel = kind == .vpn ? host.tunnel(in: name) : nil
        if kind == .vpn {
            let status = tunnelStatus(of: name, device: tunnel)  // read first: the catalog is not read while it is written
            catalog.vpns[name]?.tunnel = status
            if status?.phase == .connected { catalog.vpns[name]?.failure = nil }  // a client that failed before has connected since
        }
        guard var state = catalog.state(of: name, at: now) else { return nil }
        if [.explicit, .implicit, .static].contains(kind), !repairs.forwardDrops.isEmpty {
            state.reason += "; what it sends is dropped by " + repairs.forwardDrops.map(\.description).joined(separator: ", ")
        }
        var view = DomainView(
            name: name, kind: kind, origin: catalog.origin(of: name) ?? .runtime, state: state,
            namespace: catalog.namespace(of: name) ?? DomainNaming.namespace(ofDomain: name))
        if case .explicit(let id)? = catalog.key(of: name) { view.pvdID = id.description }
        if let domain = catalog.table.domains.values.first(where: { $0.name == name }) {
            view.spec = catalog.table.spec(named: name, at: now)
            view.sequence = domain.sequence ?? 0
            let document = information.entries[name]?.document
            if case .explicit(let id) = domain.key {
                view.flags = [("H", domain.http), ("L", domain.legacy), ("noInternet", document?.noInternet ?? false)]
                view.claims = DomainChoice.Claims(name: name, kind: kind, pvdID: id, document: document).zones.map(\.description)
            }
            view.environment = ProxyEnvironment.variables(for: document).map { "\($0.0)=\($0.1)" }
            view.lifetime = domain.routerLifetime(at: now)
            view.additionalInformation = information.entries[name]?.json.serialized ?? ""
        } else if let spec = catalog.statics[name] {
            view.spec = spec
            view.lifetime = .infinity
        } else if kind != .explicit && kind != .implicit {
            view.lifetime = .infinity
        }
        view.health = health[name] ?? []
        if let tunnel {
            view.tunnelAddresses = tunnel.addresses
            view.tunnelRoutes = tunnel.routes
            view.tunnelDNS = tunnel.dnsServers
            view.tunnelSearch = tunnel.searchDomains
        }
        return view
    }

    /// What every domain says of itself, for ``DomainChoice``.
    func domainClaims() -> [DomainChoice.Claims] {
        domainNames().compactMap { name in
            guard let kind = catalog.kind(of: name) else { return nil }
            var pvdID: DomainName?
            if case .explicit(let id)? = catalog.key(of: name) { pvdID = id }
            return DomainChoice.Claims(name: name, kind: kind, pvdID: pvdID, document: information.entries[name]?.document)
        }
    }

    /// The domain of an explicit PvD named by its PvD ID, when an alias gave
    /// the domain another name (people may still use the PvD ID).
    func domainName(forPvDID query: String) -> String? {
        catalog.table.domains.values.first {
            if case .explicit(let id) = $0.key { return id.description == query.lowercased() && $0.name != id.description }
            return false
        }?.name
    }

    /// The programs running in the domains `names` (pvd ps): one pass over /proc.
    func programs(in names: [String]) -> [(domain: String, pid: Int32, uid: uid_t, user: String, command: String)] {
        var namespaces: [ino_t: String] = [:]
        for name in names {
            let namespace = catalog.namespace(of: name) ?? DomainNaming.namespace(ofDomain: name)
            if let inode = Namespaces.inode(Paths.namespace(namespace)) { namespaces[inode] = name }
        }
        guard !namespaces.isEmpty else { return [] }
        return ProcessTable.processes(inNamespaces: namespaces).map {
            ($0.namespace, $0.pid, $0.uid, UserAccount(uid: $0.uid)?.name ?? String($0.uid), $0.command)
        }
    }

    /// AddDomain: a static domain from its settings, made at once.
    func addStaticDomain(_ name: String, settings: JSONValue) throws(BusError) {
        try refuseTaken(name)
        guard case .object(let members) = settings else { throw BusError(PvDBusAPI.ErrorName.invalidArguments, "settings must be a{sv}") }
        let known = DeclarativeState.domainKeys.subtracting(["name"])
        if let unknown = members.first(where: { !known.contains($0.key) }) {
            throw BusError(
                PvDBusAPI.ErrorName.invalidArguments,
                "unknown setting \(unknown.key); known: \(known.sorted().joined(separator: ", "))")
        }
        let spec: DomainSpec
        do { spec = try DomainSpec(json: .object([JSONMember("name", .string(name))] + members)) } catch {
            throw BusError(PvDBusAPI.ErrorName.invalidArguments, "setting \(error)")
        }
        var target = catalog.declared
        target.domains.append(spec)
        try applyDeclared(target)
    }

    /// RemoveDomain: static, VPN and namespace domains go; learnt ones go with their routers.
    func removeDomain(_ name: String) throws(BusError) {
        guard catalog.reservedNames.contains(name) else {
            throw BusError(
                PvDBusAPI.ErrorName.notRemovable,
                "\(name) was learnt from Router Advertisements; it goes when its routers withdraw it")
        }
        var target = catalog.declared
        target.domains.removeAll { $0.name == name }
        target.vpns.removeAll { $0.name == name }
        target.namespaces.removeAll { $0 == name }
        try applyDeclared(target)
    }

    /// AddNetworkNamespace: a bare /run/netns/NAME with `lo` up.
    func addBareNamespace(_ name: String) throws(BusError) {
        try refuseTaken(name)
        guard !host.namespaceExists(name) else {
            throw BusError(PvDBusAPI.ErrorName.exists, "\(Paths.namespace(name)) exists already")
        }
        var target = catalog.declared
        target.namespaces.append(name)
        try applyDeclared(target)
    }

    /// AddDomain with `openvpn` or `wireguard`: the (empty) domain at once,
    /// its tunnel when the client connects.
    func addVPNDomain(_ name: String, client: VPNClient, config: String, options: [String: String] = [:]) throws(BusError) {
        try refuseTaken(name)
        var target = catalog.declared
        target.vpns.append(DeclarativeState.VPN(name: name, client: client, config: config, options: options))
        try applyDeclared(target)
    }

    func refuseTaken(_ name: String) throws(BusError) {
        guard !catalog.isTaken(name) else {
            throw BusError(PvDBusAPI.ErrorName.exists, "a domain called \(name) exists already")
        }
    }
}

/// ApplyState and GetState: the declared state (static, VPN and namespace
/// domains) as a whole, all or nothing.
extension Runner {
    /// Makes the declared state `text` (YAML) true; returns the changes.
    func applyState(_ text: String) throws(BusError) -> [String] {
        let target: DeclarativeState
        do { target = try DeclarativeState(try YAMLDocument.parse(text)) } catch {
            throw BusError(PvDBusAPI.ErrorName.invalidArguments, "the state: \(error)")
        }
        return try applyDeclared(target).map(\.description)
    }

    /// Makes `target` the declared state through the catalog (removals in
    /// one batch, all or nothing), then starts and stops the VPN clients and
    /// says what changed. `files`: the names configuration files declare now.
    @discardableResult
    func applyDeclared(_ target: DeclarativeState, files: Set<String>? = nil) throws(BusError) -> [DeclarativeState.Change] {
        for name in target.namespaces where !catalog.namespaces.contains(name) && host.namespaceExists(name) {
            throw BusError(PvDBusAPI.ErrorName.exists, "\(Paths.namespace(name)) exists and is not pvd's")
        }
        // An address another domain has is refused by name, before the kernel says "File exists".
        let now = loop.now
        for spec in target.domains where catalog.statics[spec.name] != spec {
            let others = target.domains.filter { $0.name != spec.name } + catalog.table.specs(at: now)
            for other in others {
                if let shared = Set(spec.addresses).intersection(other.allAddresses).min() {
                    throw BusError(PvDBusAPI.ErrorName.exists, "\(shared) is domain \(other.name)'s address already; \(spec.name) needs another")
                }
            }
        }
        for vpn in target.vpns where catalog.vpns[vpn.name].map({ $0.client != vpn.client || $0.config != vpn.config || $0.options != vpn.options }) ?? true {
            try checkVPN(vpn)
        }
        let leaving = catalog.vpns
        let changes: [DeclarativeState.Change]
        do { changes = try catalog.apply(target, files: files, host: host) } catch {
            throw BusError(error.exists ? PvDBusAPI.ErrorName.exists : PvDBusAPI.ErrorName.failed, error.description)
        }
        for change in changes {
            logger.info("state: \(change)")
            switch change {
            case .removeVPN(let name):
                closeManagement(name)
                if let pid = leaving[name]?.pid { kill(pid, SIGTERM) }
            case .addVPN(let vpn):
                do { try startClient(vpn.name) } catch { logger.error("domain \(vpn.name): \(error)") }
            default:
                break
            }
        }
        if !changes.isEmpty || files != nil {
            saveState()
            bus?.announce(Set(changes.map(\.name)))
        }
        health = health.filter { catalog.kind(of: $0.key) != nil }
        verifyAfterApply(changes)
        return changes
    }
}
