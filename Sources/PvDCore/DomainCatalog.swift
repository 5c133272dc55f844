import PvDWire

/// What kind of domain a name is.
public enum DomainKind: String, Sendable {
    case explicit, implicit, `static`, vpn, namespace
}

/// Where a domain comes from: learnt from RAs, declared in configuration
/// files, or added at runtime (AddDomain, `pvd apply`).
public enum DomainOrigin: String, Sendable {
    case routerAdvertisement = "ra"
    case file, runtime
}

/// A domain's state for people: a word and a sentence they can act on.
public struct DomainState: Equatable, Sendable {
    /// active, withdrawn, lingering, connecting, connected or failed.
    public var name: String
    public var reason: String

    public init(name: String, reason: String) {
        self.name = name
        self.reason = reason
    }
}

/// A VPN domain: its client's configuration and what is known of the client.
public struct VPNEntry: Equatable, Sendable {
    public var client: VPNClient
    public var config: String
    /// OpenConnect's settings besides its server.
    public var options: [String: String] = [:]
    /// The declared entry's `connect-within`.
    public var connectWithin: UInt32?
    public var pid: Int32?
    /// When a client that exited is started again.
    public var restartAt: Seconds?
    /// When the client last started, and how many runs in a row were short.
    public var startedAt: Seconds = 0
    public var shortRuns = 0
    /// Why the client does not run, when it cannot start or keeps exiting.
    public var failure: String?
    /// What the running client says of its tunnel.
    public var tunnel: TunnelStatus?

    public init(client: VPNClient, config: String, options: [String: String] = [:], connectWithin: UInt32? = nil, pid: Int32? = nil) {
        self.client = client
        self.config = config
        self.options = options
        self.connectWithin = connectWithin
        self.pid = pid
    }

    /// Its declared entry, named `name`.
    public func declared(as name: String) -> DeclarativeState.VPN {
        DeclarativeState.VPN(name: name, client: client, config: config, options: options, connectWithin: connectWithin)
    }
}

/// Every domain pvdd keeps, of every kind: learnt (the ``DomainTable``),
/// lingering (learnt, gone, programs still inside), static, VPN and bare
/// namespaces; where each comes from; whether a name is taken; the declared
/// state, its plan and its undo; and the state document pvdd saves. Pure: the
/// host is reached only through ``HostNetworking``, so the daemon's decisions
/// are tested against InMemoryHostNet (Tests/Support).
public struct DomainCatalog: Sendable {
    public var table: DomainTable {
        didSet { table.reservedNames = reservedNames }
    }
    public private(set) var statics: [String: DomainSpec] = [:]
    /// VPN domains; the daemon updates what it knows of their clients.
    public var vpns: [String: VPNEntry] = [:]
    public private(set) var namespaces: Set<String> = []
    /// Learnt domains past their time that stay while programs run inside:
    /// each keeps its PvD key (kind and PvD ID), and since when it lingers.
    public private(set) var lingering: [String: (key: PvDKey, since: Seconds)] = [:]
    /// The static, VPN and namespace domains that configuration files declare.
    public private(set) var fromFiles: Set<String> = []
    /// The key of each learnt domain, kept for when it lingers.
    private var learntKeys: [String: PvDKey] = [:]

    public init(table: DomainTable) {
        self.table = table
        self.table.reservedNames = reservedNames
    }

    /// The catalog of a saved state (its entries checked by ``SavedState``);
    /// `namespaceExists` drops namespaces that are gone.
    public init(saved: SavedState, namespaceExists: (String) -> Bool) {
        self.init(table: saved.table)
        for spec in saved.statics { statics[spec.name] = spec }
        namespaces = Set(saved.namespaces.filter(namespaceExists))
        for vpn in saved.vpns {
            vpns[vpn.name] = VPNEntry(client: vpn.client, config: vpn.config, options: vpn.options, connectWithin: vpn.connectWithin, pid: vpn.pid)
        }
        fromFiles = Set(saved.fromFiles).intersection(reservedNames)
        for entry in saved.lingering where !isTaken(entry.name) { lingering[entry.name] = (entry.key, entry.since) }
        table.reservedNames = reservedNames
        rememberLearntKeys()
    }

    // MARK: Names

    /// Names that static, VPN and namespace domains hold.
    public var reservedNames: Set<String> { Set(statics.keys).union(vpns.keys).union(namespaces) }

    /// Every domain's name, sorted.
    public var names: [String] {
        Set(table.domains.values.map(\.name)).union(lingering.keys).union(reservedNames).sorted()
    }

    public func isTaken(_ name: String) -> Bool {
        reservedNames.contains(name) || lingering[name] != nil || table.domains.values.contains { $0.name == name }
    }

    public func kind(of name: String) -> DomainKind? {
        if let key = table.domains.values.first(where: { $0.name == name })?.key ?? lingering[name]?.key {
            if case .explicit = key { return .explicit }
            return .implicit
        }
        if statics[name] != nil { return .static }
        if vpns[name] != nil { return .vpn }
        if namespaces.contains(name) { return .namespace }
        return nil
    }

    /// The name under /run/netns of domain `name`'s namespace (a bare
    /// namespace is its own); nil when there is no such domain.
    public func namespace(of name: String) -> String? {
        kind(of: name).map { $0 == .namespace ? name : DomainNaming.namespace(ofDomain: name) }
    }

    public func origin(of name: String) -> DomainOrigin? {
        guard let kind = kind(of: name) else { return nil }
        if kind == .explicit || kind == .implicit { return .routerAdvertisement }
        return fromFiles.contains(name) ? .file : .runtime
    }

    /// The PvD key of a learnt or lingering domain.
    public func key(of name: String) -> PvDKey? {
        table.domains.values.first(where: { $0.name == name })?.key ?? lingering[name]?.key
    }

    // MARK: Lingering

    /// Notes the keys of the learnt domains as they are now, so that one
    /// that goes from the table before the next call can linger with its key.
    public mutating func rememberLearntKeys() {
        learntKeys = Dictionary(table.domains.values.map { ($0.name, $0.key) }, uniquingKeysWith: { first, _ in first })
    }

    /// A learnt domain that went from the table stays, with its key, while
    /// programs run inside; false when its key is not known.
    @discardableResult
    public mutating func linger(_ name: String, at now: Seconds) -> Bool {
        guard lingering[name] == nil else { return true }
        guard let key = learntKeys[name] else { return false }
        lingering[name] = (key, now)
        return true
    }

    /// The lingering domain goes (its last program ended, or RAs made it again).
    public mutating func stopLingering(_ name: String) {
        lingering[name] = nil
    }

    // MARK: Declared state

    /// The static, VPN and namespace domains, as `pvd show --yaml` prints them.
    public var declared: DeclarativeState {
        DeclarativeState(
            domains: Array(statics.values),
            vpns: vpns.map { $0.value.declared(as: $0.key) },
            namespaces: Array(namespaces))
    }

    /// The declared state with what files declare replaced by `files`, and
    /// what was added at runtime kept (a file's entry wins over a runtime one
    /// of the same name).
    public func replacingFileDeclared(with files: DeclarativeState) -> DeclarativeState {
        let fileNames = Set(files.names)
        let runtime = { (name: String) in !fromFiles.contains(name) && !fileNames.contains(name) }
        return DeclarativeState(
            domains: statics.values.filter { runtime($0.name) } + files.domains,
            vpns: vpns.filter { runtime($0.key) }.map { $0.value.declared(as: $0.key) } + files.vpns,
            namespaces: namespaces.filter(runtime) + files.namespaces)
    }

    /// Why a declared state cannot be applied at all, or nil.
    private func refusal(of target: DeclarativeState) -> String? {
        for name in target.names {
            if table.domains.values.contains(where: { $0.name == name }) || lingering[name] != nil {
                return "\(name) is a domain learnt from Router Advertisements"
            }
        }
        return nil
    }

    /// Makes `target` the declared state, all or nothing: domains that go are
    /// removed in one batch (the kernel then waits once, not once per veth),
    /// then the others are changed and added. A failed step undoes the steps
    /// before it and the error names the step. VPN clients are the daemon's:
    /// it stops those of the VPN domains that went and starts the new ones.
    /// `files`: the names configuration files declare now (nil: unchanged).
    public mutating func apply(
        _ target: DeclarativeState, files: Set<String>? = nil,
        host: any HostNetworking
    ) throws(CatalogError) -> [DeclarativeState.Change] {
        if let refusal = refusal(of: target) { throw CatalogError(change: nil, reason: refusal, exists: true) }
        let before = self
        let changes = declared.changes(to: target)
        var done: [DeclarativeState.Change] = []
        do throws(CatalogError) {
            let removals = changes.filter(\.removesDomain).map(\.name)
            if !removals.isEmpty {
                do { try host.remove(removals) } catch { throw CatalogError(change: changes.first(where: \.removesDomain), reason: "\(error)") }
                for name in removals {
                    statics[name] = nil
                    vpns[name] = nil
                }
                done += changes.filter(\.removesDomain)
            }
            for change in changes where !change.removesDomain {
                do { try perform(change, host: host) } catch { throw CatalogError(change: change, reason: "\(error)") }
                done.append(change)
            }
        } catch {
            undo(done, back: before, host: host)
            throw error
        }
        if let files { fromFiles = files.intersection(reservedNames) }
        table.reservedNames = reservedNames
        return changes
    }

    private mutating func perform(_ change: DeclarativeState.Change, host: any HostNetworking) throws(SystemError) {
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
        case .addVPN(let vpn):
            try host.createTunnelDomain(vpn.name)
            vpns[vpn.name] = VPNEntry(client: vpn.client, config: vpn.config, options: vpn.options, connectWithin: vpn.connectWithin)
        case .addNamespace(let name):
            try host.createBareNamespace(name)
            namespaces.insert(name)
        case .removeNamespace(let name):
            try host.deleteNamespace(name)
            namespaces.remove(name)
        case .removeDomain(let name), .removeVPN(let name):
            try host.remove([name])
            statics[name] = nil
            vpns[name] = nil
        }
    }

    /// Puts back what `done` changed, newest first, to what `before` had.
    private mutating func undo(_ done: [DeclarativeState.Change], back before: DomainCatalog, host: any HostNetworking) {
        for change in done.reversed() {
            let name = change.name
            switch change {
            case .addDomain, .addVPN:
                try? host.remove([name])
            case .changeDomain, .removeDomain:
                if let spec = before.statics[name] { try? host.apply(spec) }
            case .removeVPN:
                try? host.createTunnelDomain(name)
            case .addNamespace:
                try? host.deleteNamespace(name)
            case .removeNamespace:
                try? host.createBareNamespace(name)
            }
        }
        statics = before.statics
        vpns = before.vpns
        namespaces = before.namespaces
    }

    // MARK: State document

    /// What pvdd saves: the table, the static, VPN and namespace domains, and
    /// which of them files declare.
    public var document: JSONValue {
        guard case .object(var members) = table.state else { return table.state }
        members.append(JSONMember("static_domains", .array(statics.values.sorted { $0.name < $1.name }.map(\.json))))
        members.append(JSONMember("namespaces", .array(namespaces.sorted().map(JSONValue.string))))
        members.append(
            JSONMember(
                "vpn_domains",
                .array(
                    vpns.sorted { $0.key < $1.key }.map {
                        .object([
                            JSONMember("name", .string($0.key)), JSONMember($0.value.client.rawValue, OpenConnectSettings.json($0.value)),
                            JSONMember("pid", $0.value.pid.map { .integer(Int64($0)) } ?? .null),
                            JSONMember("connect_within", $0.value.connectWithin.map { .integer(Int64($0)) } ?? .null),
                        ])
                    })))
        members.append(JSONMember("declared_in_files", .array(fromFiles.sorted().map(JSONValue.string))))
        members.append(
            JSONMember(
                "lingering",
                .array(
                    lingering.sorted { $0.key < $1.key }.map {
                        .object([JSONMember("name", .string($0.key)), JSONMember("key", $0.value.key.json), JSONMember("since", .number($0.value.since))])
                    })))
        return .object(members)
    }

    // MARK: States

    /// The domain's state and why, at `now`.
    public func state(of name: String, at now: Seconds) -> DomainState? {
        if let domain = table.domains.values.first(where: { $0.name == name }) {
            let lifetime = domain.routerLifetime(at: now)
            if lifetime > 0 {
                let routers = domain.routers.values.filter { $0.defaultUntil > now }.count
                return DomainState(name: "active", reason: "\(routers) router(s) advertise it; the longest for \(Int(lifetime)) s more")
            }
            let goes = table.removalTime(of: domain).map { "it goes in \(Int(max(0, $0 - now))) s" } ?? "it stays while its prefixes are valid"
            return DomainState(name: "withdrawn", reason: "no router advertises it as a default router now; \(goes) unless one does again")
        }
        if let lingering = lingering[name] {
            return DomainState(
                name: "lingering",
                reason: "its routers are gone since \(Int(max(0, now - lingering.since))) s, "
                    + "but programs still run inside; it goes within seconds of the last one ending")
        }
        if let vpn = vpns[name] {
            if let failure = vpn.failure { return DomainState(name: "failed", reason: failure) }
            if let restart = vpn.restartAt {
                return DomainState(name: "connecting", reason: "the client exited; it starts again in \(Int(max(0, restart - now))) s")
            }
            if let tunnel = vpn.tunnel { return DomainState(name: tunnel.phase.rawValue, reason: tunnel.reason) }
            return DomainState(name: "connecting", reason: "waiting for the client to report")
        }
        switch origin(of: name) {
        case .file?: return DomainState(name: "active", reason: "declared in a configuration file")
        case .runtime?: return DomainState(name: "active", reason: "added at runtime (AddDomain or pvd apply)")
        default: return nil
        }
    }
}

/// A declared state that could not be applied: the step, and why.
public struct CatalogError: Error, Sendable, CustomStringConvertible {
    public var change: DeclarativeState.Change?
    public var reason: String
    /// Whether a name was taken (org.pvd1.Error.Exists rather than Failed).
    public var exists = false

    public var description: String {
        guard let change else { return reason }
        return "\(change) failed, and the changes before it were undone: \(reason)"
    }
}

extension DeclarativeState.Change {
    /// The domain the change is about.
    public var name: String {
        switch self {
        case .addDomain(let spec), .changeDomain(let spec): spec.name
        case .addVPN(let vpn): vpn.name
        case .removeDomain(let name), .removeVPN(let name), .addNamespace(let name), .removeNamespace(let name): name
        }
    }

    /// Whether it removes a domain (static or VPN): those go in one batch.
    var removesDomain: Bool {
        switch self {
        case .removeDomain, .removeVPN: true
        default: false
        }
    }
}
