import BusWire
import CPvDShim
import Glibc
import LinuxSystem
import PvDCore

/// Whether the environment may be trusted: the caller is root and pvd was
/// not started with privileges it would not otherwise have (file capabilities).
public var isTrustedCaller: Bool { getuid() == 0 && pvd_is_secure_exec() == 0 }

/// One `pvd exec NAME -- CMD…` (docs/design.md, "pvd exec, step by step"): this
/// process asks pvdd for the domain's namespace, enters it with the domain's
/// DNS, becomes the calling user without any capability, and execs CMD, so
/// that exit status and signals are CMD's own. The only other thread is the
/// /proc search (``ProcessSearch``): it starts after unshare(CLONE_NEWNS),
/// which needs a single thread, and is joined before the credentials, which
/// are per thread, change.
public struct ExecRequest: Equatable {
    public var asRoot = false
    /// No note about a program that hands requests over (``HandOver``) running outside the domain.
    public var quiet = false
    /// ``name`` is a destination (a host name or URL): the domain is the one
    /// that claims it (org.pvd1's ChooseDomain).
    public var forDestination = false
    public var name: String
    /// The command; empty: the user's shell.
    public var command: [String]

    public init(asRoot: Bool, quiet: Bool = false, forDestination: Bool = false, name: String, command: [String]) {
        self.asRoot = asRoot
        self.quiet = quiet
        self.forDestination = forDestination
        self.name = name
        self.command = command
    }

    /// `[OPTIONS] NAME [OPTIONS] [--] [CMD…]` with the options `--as-root`,
    /// `--quiet` (`-q`) and `--for`, before or after NAME; nil for anything
    /// else (pvd-cli then says what is wrong).
    public static func parse(_ arguments: [String]) -> ExecRequest? {
        var rest = arguments[...]
        var request = ExecRequest(asRoot: false, name: "", command: [])
        func takeOptions() -> Bool {
            while let word = rest.first, word.hasPrefix("-"), word != "--" {
                switch word {
                case "--as-root": request.asRoot = true
                case "--quiet", "-q": request.quiet = true
                case "--for": request.forDestination = true
                default: return false
                }
                rest = rest.dropFirst()
            }
            return true
        }
        guard takeOptions(), let name = rest.first, !name.hasPrefix("-") else { return nil }
        rest = rest.dropFirst()
        guard takeOptions() else { return nil }
        if rest.first == "--" { rest = rest.dropFirst() }
        request.name = name
        request.command = Array(rest)
        return request
    }

    /// The request as `pvd exec` arguments (after `exec`), the form ``parse(_:)`` reads.
    public var arguments: [String] {
        (asRoot ? ["--as-root"] : []) + (quiet ? ["--quiet"] : []) + (forDestination ? ["--for"] : []) + [name, "--"] + command
    }

    /// Whether CMD runs as a user other than the caller, whose groups only
    /// the user database knows: root acting for the user behind sudo.
    public var needsUserDatabase: Bool {
        guard isTrustedCaller, !asRoot, let sudoUID = Self.sudoUID else { return false }
        return sudoUID != 0
    }

    private static var sudoUID: uid_t? { getenv("SUDO_UID").flatMap { uid_t(String(cString: $0)) } }

    /// A uid's account in the user database, which the static `pvd` does
    /// not link (its modules are shared libraries).
    public typealias UserLookup = (uid_t) -> User?

    /// What `pvd exec` needs of an account: its groups, and what `sudo -i`
    /// would set in the environment.
    public struct User: Equatable, Sendable {
        public var name: String
        public var gid: gid_t
        public var groups: [gid_t]
        public var home: String
        public var shell: String
        public init(name: String, gid: gid_t, groups: [gid_t], home: String, shell: String) {
            self.name = name
            self.gid = gid
            self.groups = groups
            self.home = home
            self.shell = shell
        }
    }

    /// Enters the domain and execs the command; returns only by exiting.
    /// `lookUpUser` is needed when ``needsUserDatabase``.
    public func run(lookingUpUsersWith lookUpUser: UserLookup?) -> Never {
        do {
            try enterAndExec(lookUpUser)
        } catch {
            printError(error.message)
            exit(error.status)
        }
    }

    /// Who CMD runs as.
    private enum Target {
        /// Root, keeping root (without sudo, or with --as-root).
        case root
        /// The caller, with the groups the caller has.
        case caller
        /// The user behind sudo, as the user database has them.
        case sudoUser(uid: uid_t, User)

        var uid: uid_t {
            switch self {
            case .root: 0
            case .caller: getuid()
            case .sudoUser(let uid, _): uid
            }
        }
    }

    /// The user behind sudo unless --as-root; root without sudo; otherwise
    /// the real user. Only root's environment is trusted.
    private func target(trusted: Bool, _ lookUpUser: UserLookup?) throws(ExecFailure) -> Target {
        if !trusted, asRoot { throw ExecFailure("--as-root is for root (or sudo) only", status: 2) }
        if needsUserDatabase, let uid = Self.sudoUID {
            guard let lookUpUser else { throw ExecFailure("this program cannot read the user database; run pvd-cli exec", status: 1) }
            guard let user = lookUpUser(uid) else { throw ExecFailure("uid \(uid) has no entry in the user database", status: 1) }
            return .sudoUser(uid: uid, user)
        }
        return getuid() == 0 ? .root : .caller
    }

    /// Asks pvdd for the domain (the one that claims the destination, with
    /// ``forDestination``): a descriptor of its network namespace (after
    /// pvdd's access check), the namespace's name under /run/netns, and
    /// what its additional information adds to the environment.
    private func openDomain(trusted: Bool) throws(ExecFailure) -> (fd: Int32, domain: String, namespace: String, environment: [String]) {
        // Privileged: the bus at its fixed address, never one from the environment.
        let address = trusted ? getenv("DBUS_SYSTEM_BUS_ADDRESS").map { String(cString: $0) } ?? BusAddress.system : BusAddress.system
        let bus: BusCallConnection
        do { bus = try BusCallConnection(address: address) } catch {
            throw ExecFailure(PvDBusAPI.busUnreachable(error).message, status: 1)
        }
        var descriptors: [Int32] = []
        defer { for descriptor in descriptors { close(descriptor) } }
        func send(_ path: String, _ interface: String, _ member: String, _ arguments: [BusValue]) throws(BusError) -> UInt32 {
            try bus.send(.methodCall(serial: 0, destination: PvDBusAPI.busName, path: path, interface: interface, member: member, arguments: arguments))
        }
        func values(_ serial: UInt32) throws(BusError) -> [BusValue] {
            let reply = try bus.reply(to: serial)
            descriptors += reply.descriptors
            return reply.values
        }
        func askEnvironment(_ domain: String) throws(BusError) -> UInt32 {
            try send(
                PvDBusAPI.path(ofDomain: domain), "org.freedesktop.DBus.Properties", "Get",
                [.string(PvDBusAPI.domainInterface), .string(PvDBusAPI.Property.environment.rawValue)])
        }
        func environment(_ serial: UInt32) -> [String]? {
            guard case .variant(.array(_, let items))? = (try? values(serial))?.first else { return nil }
            return items.compactMap(\.text)
        }
        do {
            var domainName = name
            if forDestination {
                let choice = try values(
                    try send(PvDBusAPI.managerPath, PvDBusAPI.managerInterface, PvDBusAPI.Method.chooseDomain.rawValue, [.string(name)]))
                guard choice.count == 3, let chosen = choice[0].text, let explanation = choice[2].text else {
                    throw BusError(PvDBusAPI.ErrorName.failed, "pvdd gave no choice")
                }
                guard !chosen.isEmpty else { throw ExecFailure(explanation, status: 1) }
                domainName = chosen
            }
            // The environment is asked at once, of the domain named as given (one round trip when that is its
            // full name); a start of a name or a PvD ID asks again once pvdd said which domain it is.
            let opening = try send(PvDBusAPI.managerPath, PvDBusAPI.managerInterface, PvDBusAPI.Method.openDomain.rawValue, [.string(domainName)])
            let asking = try askEnvironment(domainName)
            let opened = try values(opening)
            guard opened.count == 3, case .unixFD(let index) = opened[0], index >= 0, Int(index) < descriptors.count,
                let domain = opened[1].text, let namespace = opened[2].text
            else {
                throw BusError(PvDBusAPI.ErrorName.failed, "pvdd gave no namespace")
            }
            let fd = descriptors.remove(at: Int(index))
            let variables = domain == domainName ? environment(asking) : (try? askEnvironment(domain)).flatMap(environment)
            return (fd, domain, namespace, variables ?? [])
        } catch let failure as ExecFailure {
            throw failure
        } catch let error as BusError {
            throw ExecFailure((PvDBusAPI.daemonNotRunning(error) ?? error).message, status: 1)
        } catch {
            throw ExecFailure("\(error)", status: 1)
        }
    }

    private static func privilegeHint(_ error: SystemError) -> String {
        error.code == .errno(EPERM) ? " (pvd exec needs root, sudo, or the file capability scripts/install gives it)" : ""
    }

    private func enterAndExec(_ lookUpUser: UserLookup?) throws(ExecFailure) -> Never {
        let trusted = isTrustedCaller
        let target = try target(trusted: trusted, lookUpUser)
        // No command: the user's shell, as `sudo -i` or `machinectl shell` would start.
        var command = command
        if command.isEmpty {
            if case .sudoUser(_, let user) = target { command = [user.shell] } else { command = [getenv("SHELL").map { String(cString: $0) } ?? "/bin/sh"] }
        }
        let program = command[0]
        let programName = program.utf8.lastIndex(of: UInt8(ascii: "/")).map { String(program[program.utf8.index(after: $0)...]) } ?? program

        // The mount namespace first, while this is the only thread; then the
        // program's other instances are looked for, for the note below, on a
        // thread of their own while pvdd answers and the domain is entered.
        do throws(SystemError) { try DomainEntry.privateMounts() } catch {
            throw ExecFailure("\(error)\(Self.privilegeHint(error))", status: 1)
        }
        let handsOver = !quiet && HandOver.applies(to: programName, home: getenv("HOME").map { String(cString: $0) } ?? "")
        let search = handsOver ? Executable(command: program).map { ProcessSearch(program: $0, uid: target.uid) } : nil

        let (fd, domain, namespace, environment) = try openDomain(trusted: trusted)
        let elsewhere: String?
        do throws(SystemError) {
            try DomainEntry.enter(namespace: fd, named: namespace)
            elsewhere = search?.pids().first { ProcessTable.process($0, isOutsideNamespace: fd) }
            close(fd)
            let realBus: Int32?
            switch target {
            case .root:
                realBus = try SystemBusFilter.prepare(owner: 0, group: 0)
            case .caller:
                realBus = try SystemBusFilter.prepare(owner: getuid(), group: getgid())
                try DomainEntry.become(uid: getuid(), gid: getgid(), groups: .kept)
            case .sudoUser(let uid, let user):
                realBus = try SystemBusFilter.prepare(owner: uid, group: user.gid)
                try DomainEntry.become(uid: uid, gid: user.gid, groups: .set(user.groups))
                // The user's own environment, as `sudo -i` or `runuser` gives it.
                for (key, value) in [("HOME", user.home), ("USER", user.name), ("LOGNAME", user.name), ("SHELL", user.shell)] { setenv(key, value, 1) }
            }
            // The proxy runs as the program's user, so the bus sees the program's credentials.
            if let realBus { _ = try SystemBusFilter.start(realBus: realBus) }
        } catch {
            throw ExecFailure("\(error)\(Self.privilegeHint(error))", status: 1)
        }
        // The domain's proxies (its additional information), over what the host's environment says.
        for variable in environment {
            guard let equals = variable.utf8.firstIndex(of: UInt8(ascii: "=")) else { continue }
            setenv(String(variable[..<equals]), String(variable[variable.utf8.index(after: equals)...]), 1)
        }
        // A browser gets a profile of its own for the domain: with the user's
        // usual one it would hand the page to an instance running outside.
        let home = getenv("HOME").map { String(cString: $0) } ?? ""
        if let profile = BrowserProfile(command: command, domain: domain, home: home) {
            do throws(SystemError) { try profile.makeDirectory() } catch { throw ExecFailure("\(error)", status: 1) }
            command = profile.command
            if !quiet { printError("\(programName) uses its own profile for domain \(domain): \(profile.directory)") }
        } else if let pid = elsewhere {
            // A program that hands requests over (``HandOver``) may give this one to that instance.
            printError(
                "note: \(programName) is already running outside this domain (pid \(pid)); "
                    + "it may take this request over (pvd exec --quiet leaves this note out)")
        }
        let argv = command.map { strdup($0) } + [nil]
        execvp(program, argv)
        let failure = errno
        throw ExecFailure(systemError("run", program, errno: failure).description, status: failure == ENOENT ? 127 : 126)
    }
}

/// Why pvd exec stops before running the command, and with which status.
struct ExecFailure: Error {
    var message: String
    var status: Int32
    init(_ message: String, status: Int32) {
        self.message = message
        self.status = status
    }
}
