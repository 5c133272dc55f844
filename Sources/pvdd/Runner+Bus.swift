import BusWire
import Glibc
import HostNet
import LinuxSystem
import PvDConfig
import PvDCore
import PvDWire
import Systemd
import UserDatabase

/// pvdd's side of `org.pvd1` (docs/design.md, "Interfaces"): the manager at
/// /org/pvd1 and an object per domain under /org/pvd1/domain. Callers are
/// told apart by the uid the bus gives for their connection.
final class DaemonBus: BusObjectHandler {
    unowned let runner: Runner
    let connection: BusConnection
    /// The domains announced with DomainAdded, to tell what came and went.
    private var announced: Set<String> = []
    /// The name under /run/netns of the daemon's own namespace while it runs.
    static let rootNamespace = DomainNaming.daemonNamespace
    private var publishedRoot = false
    /// The view the last property read built, for the rest of its batch: a
    /// GetAll reads 29 properties one by one, and a VPN domain's view reads
    /// its tunnel from the kernel.
    private var lastView: (batch: BusPropertyBatch, view: DomainView)?
    /// OpenSocket and ResolveName.
    let aware: PvDAwareService

    init(runner: Runner, loop: EventLoop) throws(BusError) {
        self.runner = runner
        aware = PvDAwareService(loop: loop)
        connection = try BusConnection.system(trustEnvironment: true)
        try connection.add(PvDBusAPI.manager, at: PvDBusAPI.managerPath, handler: self)
        try connection.add(PvDBusAPI.domain, at: PvDBusAPI.domainPrefix, fallback: true, handler: self)
        try connection.add(PvDBusAPI.checkpoint, at: PvDBusAPI.checkpointPrefix, fallback: true, handler: self)
        // Below RAs, timers and signals: a flood of calls never delays them.
        try connection.attach(to: loop, priority: 10)
        try connection.requestName(PvDBusAPI.busName)
        do {
            publishedRoot = try KernelHostNet.publishOwnNamespace(as: DaemonBus.rootNamespace)
        } catch {
            logger.warning("not publishing /run/netns/\(DaemonBus.rootNamespace): \(error)")
        }
        announced = Set(runner.domainNames())
    }

    /// Removes /run/netns/rootns when it is still this pvdd's namespace.
    func close() {
        guard publishedRoot else { return }
        do { try KernelHostNet.unpublishOwnNamespace(DaemonBus.rootNamespace) } catch { logger.error("\(error)") }
        publishedRoot = false
    }

    /// Signals what changed: DomainAdded / DomainRemoved, and
    /// PropertiesChanged for the domains in `changed` that stay.
    func announce(_ changed: Set<String>) {
        let current = Set(runner.domainNames())
        do {
            for name in current.subtracting(announced).sorted() {
                try connection.emitSignal(
                    PvDBusAPI.managerPath, PvDBusAPI.managerInterface, PvDBusAPI.Signal.domainAdded.rawValue,
                    [.string(name), .objectPath(PvDBusAPI.path(ofDomain: name))])
            }
            for name in announced.subtracting(current).sorted() {
                try connection.emitSignal(
                    PvDBusAPI.managerPath, PvDBusAPI.managerInterface, PvDBusAPI.Signal.domainRemoved.rawValue,
                    [.string(name), .objectPath(PvDBusAPI.path(ofDomain: name))])
            }
            for name in changed.intersection(current).intersection(announced).sorted() {
                try connection.emitPropertiesChanged(
                    PvDBusAPI.path(ofDomain: name), PvDBusAPI.domainInterface,
                    PvDBusAPI.domain.properties.map(\.name))
            }
        } catch {
            logger.error("D-Bus signal: \(error)")
        }
        announced = current
    }

    /// Emits one of the manager's signals.
    func emit(_ signal: PvDBusAPI.Signal, _ arguments: [BusValue]) {
        do { try connection.emitSignal(PvDBusAPI.managerPath, PvDBusAPI.managerInterface, signal.rawValue, arguments) } catch {
            logger.error("D-Bus signal \(signal.rawValue): \(error)")
        }
    }

    // MARK: BusObjectHandler

    func action(for member: String) -> String? { PvDBusAPI.Method(rawValue: member)?.action }

    func exists(path: String) -> Bool {
        if let number = PvDBusAPI.checkpointNumber(ofPath: path) { return runner.checkpoint?.number == number }
        guard let name = PvDBusAPI.domainName(ofPath: path) else { return false }
        return runner.domainNames().contains(name)
    }

    func children(of prefix: String) -> [String] {
        if prefix == PvDBusAPI.checkpointPrefix { return runner.checkpoint.map { [PvDBusAPI.path(ofCheckpoint: $0.number)] } ?? [] }
        return runner.domainNames().map(PvDBusAPI.path(ofDomain:))
    }

    func property(_ name: String, path: String, batch: BusPropertyBatch) throws(BusError) -> BusValue {
        if PvDBusAPI.checkpointNumber(ofPath: path) != nil { return try checkpointProperty(name, path: path) }
        guard let domainName = PvDBusAPI.domainName(ofPath: path),
            let view = lastView.flatMap({ $0.batch == batch && $0.view.name == domainName ? $0.view : nil })
                ?? runner.domainView(named: domainName)
        else {
            throw BusError(PvDBusAPI.ErrorName.unknownDomain, "no domain at \(path)")
        }
        lastView = (batch, view)
        guard let property = PvDBusAPI.Property(rawValue: name) else {
            throw BusError(PvDBusAPI.ErrorName.invalidArguments, "no property \(name)")
        }
        return view.value(of: property)
    }

    func call(_ member: String, path: String, arguments: [BusValue], caller: BusCaller) throws(BusError) -> [BusValue] {
        guard let method = PvDBusAPI.Method(rawValue: member) else {
            throw BusError("org.freedesktop.DBus.Error.UnknownMethod", "no method \(member)")
        }
        switch method {
        case .listDomains:
            return [
                .array(
                    elementSignature: "(sso)",
                    runner.domainNames().compactMap { name in
                        runner.catalog.kind(of: name).map {
                            .structure([.string(name), .string($0.rawValue), .objectPath(PvDBusAPI.path(ofDomain: name))])
                        }
                    })
            ]
        case .getDomain:
            return [.objectPath(PvDBusAPI.path(ofDomain: try resolve(arguments)))]
        case .getState:
            return [.string(runner.catalog.declared.yaml)]
        case .applyState:
            guard arguments.count == 2, let text = arguments[0].text, case .boolean(let dryRun) = arguments[1] else {
                throw BusError(PvDBusAPI.ErrorName.invalidArguments, "ApplyState takes the state (YAML) and dry_run")
            }
            // Root only, dry run too: parsing a caller's document costs the loop
            // time (up to YAMLLimits.maximumBytes); pvd apply --dry-run works
            // the changes out in the caller's process from GetState.
            try requireAuthorized(caller, "apply a declared state (pvd apply --dry-run works for everyone)")
            if dryRun {
                let target: DeclarativeState
                do { target = try DeclarativeState(try YAMLDocument.parse(text)) } catch {
                    throw BusError(PvDBusAPI.ErrorName.invalidArguments, "the state: \(error)")
                }
                return [.strings(runner.catalog.declared.changes(to: target).map(\.description))]
            }
            return [.strings(try runner.applyState(text))]
        case .checkpointCreate, .checkpointRollback, .checkpointDestroy, .listCheckpoints, .verify, .stageState, .stageRemove,
            .getStagedState, .commitStagedState, .discardStagedState:
            return try callSafeChange(method, arguments, caller: caller)
        case .reload:
            try requireAuthorized(caller, "reload the configuration")
            do { try runner.reload() } catch { throw BusError(PvDBusAPI.ErrorName.failed, "\(error); nothing was changed") }
            return []
        case .openDomain:
            let name = try resolve(arguments)
            try checkAccess(caller, to: name)
            guard let view = runner.domainView(named: name) else {
                throw BusError(PvDBusAPI.ErrorName.unknownDomain, "no domain is called \"\(name)\"")
            }
            do { return [.unixFD(try KernelHostNet.openNamespace(view.namespace)), .string(name), .string(view.namespace)] } catch {
                throw BusError(PvDBusAPI.ErrorName.failed, "\(error)")
            }
        case .addDomain:
            try requireAuthorized(caller, "add a domain")
            guard arguments.count == 2, let name = arguments[0].text, case .array(_, let entries) = arguments[1] else {
                throw BusError(PvDBusAPI.ErrorName.invalidArguments, "AddDomain takes a name and a settings dictionary")
            }
            let values = try settings(entries)
            if case .object(let members) = values, let client = VPNClient.allCases.first(where: { values[$0.rawValue] != nil }) {
                if client == .openConnect {
                    // {openconnect: SERVER, user: …, password-file: …}: OpenConnect's settings, server first.
                    let mapping = JSONValue.object(members.map { $0.key == "openconnect" ? JSONMember("server", $0.value) : $0 })
                    let settings: (server: String, options: [String: String])
                    do { settings = try OpenConnectSettings.read(mapping, at: "settings") } catch {
                        throw BusError(PvDBusAPI.ErrorName.invalidArguments, error.description)
                    }
                    try runner.addVPNDomain(try validName(name), client: client, config: settings.server, options: settings.options)
                } else {
                    guard members.count == 1, case .string(let config)? = values[client.rawValue] else {
                        throw BusError(PvDBusAPI.ErrorName.invalidArguments, "a VPN domain takes only its \(client.rawValue) setting, a path")
                    }
                    try runner.addVPNDomain(try validName(name), client: client, config: config)
                }
            } else {
                try runner.addStaticDomain(try validName(name), settings: values)
            }
            return [.objectPath(PvDBusAPI.path(ofDomain: name))]
        case .removeDomain:
            try requireAuthorized(caller, "remove a domain")
            try runner.removeDomain(try exactName(arguments))
            return []
        case .addNetworkNamespace:
            try requireAuthorized(caller, "create a namespace")
            guard let name = arguments.first?.text else {
                throw BusError(PvDBusAPI.ErrorName.invalidArguments, "AddNetworkNamespace takes a name")
            }
            try runner.addBareNamespace(try validName(name))
            return [.objectPath(PvDBusAPI.path(ofDomain: name))]
        case .listPrograms:
            // Everyone may ask; a user sees their own programs, root everyone's.
            guard let query = arguments.first?.text else { throw BusError(PvDBusAPI.ErrorName.invalidArguments, "ListPrograms takes a domain's name, or \"\"") }
            let uid = try caller.uid()
            let names = query.isEmpty ? runner.domainNames() : [try resolve(arguments)]
            let programs = runner.programs(in: names) + aware.callers(in: names)
            return [
                .array(
                    elementSignature: "(suss)",
                    programs.filter { uid == 0 || $0.uid == uid }.map {
                        .structure([.string($0.domain), .uint32(UInt32(bitPattern: $0.pid)), .string($0.user), .string($0.command)])
                    })
            ]
        case .chooseDomain:
            guard let destination = arguments.first?.text else {
                throw BusError(PvDBusAPI.ErrorName.invalidArguments, "ChooseDomain takes a host name or a URL")
            }
            let name: DomainName
            do { name = try DomainChoice.hostName(in: destination) } catch {
                throw BusError(PvDBusAPI.ErrorName.invalidArguments, error.description)
            }
            let choice = DomainChoice.choose(name, among: runner.domainClaims())
            return [.string(choice.domain ?? ""), .strings(choice.candidates), .string(choice.explanation(for: name))]
        case .openSocket:
            guard arguments.count == 4, case .int32(let family) = arguments[1], case .int32(let type) = arguments[2],
                case .int32(let socketProtocol) = arguments[3]
            else {
                throw BusError(PvDBusAPI.ErrorName.invalidArguments, "OpenSocket takes a domain, a family, a type and a protocol")
            }
            let (name, namespace, uid) = try admit(arguments, caller: caller, resolves: false)
            let request: PvDAwareCalls.SocketRequest
            do { request = try PvDAwareCalls.SocketRequest(family: family, type: type, protocol: socketProtocol) } catch {
                throw BusError(PvDBusAPI.ErrorName.invalidArguments, error.description)
            }
            let fd: Int32
            do { fd = try aware.openSocket(in: namespace, request, uid: uid) } catch { throw BusError(PvDBusAPI.ErrorName.failed, "\(error)") }
            aware.record(caller, uid: uid, domain: name, socket: true, at: runner.loop.now)
            return [.unixFD(fd)]
        case .resolveName:
            guard arguments.count == 3, let text = arguments[1].text, case .int32(let family) = arguments[2] else {
                throw BusError(PvDBusAPI.ErrorName.invalidArguments, "ResolveName takes a domain, a name and a family")
            }
            let types: [DNSMessage.RecordType]
            do {
                types = try PvDAwareCalls.recordTypes(family: family)
                _ = try PvDAwareCalls.candidates(for: text, search: [])
            } catch {
                throw BusError(PvDBusAPI.ErrorName.invalidArguments, error.description)
            }
            let (name, namespace, uid) = try admit(arguments, caller: caller, resolves: true)
            guard let reply = caller.replyLater() else { throw BusError(PvDBusAPI.ErrorName.failed, "not a bus call") }
            do { try aware.resolve(text, types: types, domain: name, namespace: namespace, uid: uid, reply: reply) } catch {
                aware.budget.resolved(uid: uid)
                reply.fail(error)
                return []
            }
            aware.record(caller, uid: uid, domain: name, socket: false, at: runner.loop.now)
            return []
        }
    }

    /// A call that held the loop longer than a long turn of the loop
    /// (``EventLoop/longTurn``) is logged (``reportLongTurn``): RAs wait meanwhile.
    func finished(_ member: String, seconds: Double) {
        guard seconds > EventLoop.longTurn else { return }
        reportLongTurn("D-Bus call \(member)", seconds: seconds)
    }

    // MARK: Checks

    func validName(_ name: String) throws(BusError) -> String {
        do { try DomainNaming.validateChosen(name) } catch { throw BusError(PvDBusAPI.ErrorName.invalidName, error.description) }
        return name
    }

    /// The domain an argument names, by its name or an unambiguous start of it.
    func resolve(_ arguments: [BusValue]) throws(BusError) -> String {
        guard let query = arguments.first?.text else { throw BusError(PvDBusAPI.ErrorName.invalidArguments, "a domain name is needed") }
        if let aliased = runner.domainName(forPvDID: query) { return aliased }
        do { return try DomainNaming.resolve(query, among: runner.domainNames()) } catch {
            switch error {
            case .unknown: throw BusError(PvDBusAPI.ErrorName.unknownDomain, error.description)
            case .ambiguous: throw BusError(PvDBusAPI.ErrorName.ambiguousName, error.description)
            }
        }
    }

    /// A domain named in full (changes never go by a prefix).
    private func exactName(_ arguments: [BusValue]) throws(BusError) -> String {
        guard let name = arguments.first?.text else { throw BusError(PvDBusAPI.ErrorName.invalidArguments, "a domain name is needed") }
        guard runner.domainNames().contains(name) else {
            _ = try validName(name)
            throw BusError(PvDBusAPI.ErrorName.unknownDomain, "no domain is called \"\(name)\"")
        }
        return name
    }

    /// Root, or a caller polkit authorized for the method's action (the connection asked it first).
    func requireAuthorized(_ caller: BusCaller, _ what: String) throws(BusError) {
        let root = try caller.uid() == 0
        guard caller.authorized || root else {
            throw BusError(
                PvDBusAPI.ErrorName.accessDenied,
                "only root, or a user polkit authorizes (\(PvDBusAPI.manageDomainsAction)), may \(what)"
                    + (caller.authorizationProblem.map { "; \($0)" } ?? ""))
        }
    }

    /// OpenSocket's and ResolveName's checks: the domain, the caller's access
    /// to it and the caller's budget; the domain's name and namespace.
    private func admit(_ arguments: [BusValue], caller: BusCaller, resolves: Bool) throws(BusError) -> (String, String, uid_t) {
        let name = try resolve(arguments)
        try checkAccess(caller, to: name)
        guard let namespace = runner.catalog.namespace(of: name) else {
            throw BusError(PvDBusAPI.ErrorName.unknownDomain, "no domain is called \"\(name)\"")
        }
        let uid = try caller.uid()
        do { try aware.budget.admit(uid: uid, resolves: resolves, at: runner.loop.now) } catch {
            throw BusError(PvDBusAPI.ErrorName.busy, error.description)
        }
        return (name, namespace, uid)
    }

    /// The configuration's access policy for the caller's user and groups.
    private func checkAccess(_ caller: BusCaller, to domain: String) throws(BusError) {
        let uid = try caller.uid()
        guard uid != 0 else { return }
        guard let account = UserAccount(uid: uid),
            runner.settings.allows(user: account.name, uid: uid, groups: account.groupNames(), domain: domain)
        else {
            throw BusError(
                PvDBusAPI.ErrorName.accessDenied,
                "uid \(uid) may not use domain \(domain); the access section of pvdd.yaml says who may")
        }
    }

    /// AddDomain's settings (`a{sv}`) as the JSON form DomainSpec reads.
    private func settings(_ entries: [BusValue]) throws(BusError) -> JSONValue {
        var members: [JSONMember] = []
        for entry in entries {
            guard case .dictEntry(.string(let key), .variant(let value)) = entry else {
                throw BusError(PvDBusAPI.ErrorName.invalidArguments, "settings must be a{sv}")
            }
            switch value {
            case .string(let text): members.append(JSONMember(key, .string(text)))
            case .uint32(let number): members.append(JSONMember(key, .integer(Int64(number))))
            case .boolean(let flag): members.append(JSONMember(key, .bool(flag)))
            case .array("s", let items): members.append(JSONMember(key, .array(items.compactMap { $0.text.map(JSONValue.string) })))
            default: throw BusError(PvDBusAPI.ErrorName.invalidArguments, "setting \(key): unsupported type \(value.signature)")
            }
        }
        return .object(members)
    }
}
