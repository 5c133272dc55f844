import BusWire
import CommandSyntax
import Glibc
import LinuxSystem
import PvDCore
import Systemd

/// `pvd service UNIT DOMAIN`: a systemd service that runs in a domain, by two
/// drop-ins (``ServiceUnit``, docs/services.md); `--remove` takes them away;
/// with no arguments, the services pvd has put in domains.
struct Service: CommandLineCommand {
    static let command = Command(
        "service", abstract: "Run a systemd service in a domain (as root); with no arguments, list such services.",
        discussion: """
            The service joins the domain's namespace, with the domain's resolv.conf, and is bound to the unit \
            pvd-domain@DOMAIN.service: it waits for the domain, stops when the domain goes and starts again when \
            it comes back. A running service moves at its next restart.
            """,
        arguments: [
            Argument("unit", help: "The service (\".service\" may be left out).", optional: true),
            Argument("domain", help: "The domain's full name.", optional: true),
        ],
        options: [
            .flag("remove", help: "Take the service out of its domain: it runs on the host's network after its next restart."),
            .flag("runtime", help: "Write the drop-ins under /run/systemd/system: until the next boot."),
        ],
        action: action)
    /// Where drop-ins that last go, and where those for this boot go.
    static let persistent = "/etc/systemd/system"
    static let runtime = "/run/systemd/system"

    let unit: String?
    let domain: String?
    let remove, runtimeOnly: Bool

    init(_ arguments: Arguments) throws(UsageError) {
        (unit, domain, remove, runtimeOnly) = (arguments.argument("unit"), arguments.argument("domain"), arguments.flag("remove"), arguments.flag("runtime"))
        if remove, domain != nil { throw UsageError("--remove takes the unit only: pvd service UNIT --remove") }
        if !remove, unit != nil, domain == nil { throw UsageError("in which domain? pvd service UNIT DOMAIN") }
        if unit == nil, remove || runtimeOnly { throw UsageError("which unit? pvd service UNIT DOMAIN, or pvd service UNIT --remove") }
    }

    func run() throws {
        try reportingFailures {
            guard let unit else { return Service.list() }
            guard getuid() == 0 else { throw CommandFailure("pvd service writes systemd's configuration: run it as root") }
            if remove { try Service.remove(unit) } else { try put(unit, in: domain ?? "") }
        }
    }

    private func put(_ unit: String, in domain: String) throws(CommandFailure) {
        let service: ServiceUnit
        do { service = try ServiceUnit(unit: unit, domain: domain) } catch { throw CommandFailure(error.description) }
        let namespace = Paths.namespace(DomainNaming.namespace(ofDomain: domain))
        let files = Paths.files(ofNamespace: DomainNaming.namespace(ofDomain: domain))
        let base = runtimeOnly ? Service.runtime : Service.persistent
        // A unit in one place only: the other place's drop-ins would name another domain.
        try Service.removeDropIns(of: service.unit)
        do {
            try HostFiles.writeAtomically(
                directory: "\(base)/\(service.unit).d", name: ServiceUnit.dropInName,
                contents: service.serviceDropIn(namespace: namespace, namespaceFiles: files))
            try HostFiles.writeAtomically(directory: "\(base)/\(service.domainUnit).d", name: service.domainDropInName, contents: service.domainDropIn)
        } catch {
            _ = try? Service.removeDropIns(of: service.unit)
            throw CommandFailure("\(error)")
        }
        try Service.reloadSystemd()
        printLine("\(service.unit) runs in domain \(domain) (bound to \(service.domainUnit)); restart it to move it now")
        if Namespaces.inode(namespace) == nil { printError("note: \(domain) does not exist now: \(service.unit) waits for it when started") }
    }

    private static func remove(_ unit: String) throws(CommandFailure) {
        let name: String
        do { name = try ServiceUnit.unitName(unit) } catch { throw CommandFailure(error.description) }
        guard try removeDropIns(of: name) else { throw CommandFailure("\(name) is in no domain") }
        try reloadSystemd()
        printLine("\(name) is in no domain any more; restart it to move it to the host's network")
    }

    /// Removes the drop-ins pvd wrote for `unit`, in both places: whether there were any.
    @discardableResult
    private static func removeDropIns(of unit: String) throws(CommandFailure) -> Bool {
        var found = false
        for base in [persistent, runtime] {
            let directory = "\(base)/\(unit).d"
            guard let text = HostFiles.read("\(directory)/\(ServiceUnit.dropInName)", limit: 65536) else { continue }
            found = true
            do {
                if let domain = ServiceUnit.domain(inServiceDropIn: text) {
                    let domainDirectory = "\(base)/\(ServiceUnit.domainUnit(of: domain)).d"
                    try HostFiles.remove(directory: domainDirectory, name: "50-pvd-service-\(unit).conf")
                }
                try HostFiles.remove(directory: directory, name: ServiceUnit.dropInName)
            } catch { throw CommandFailure("\(error)") }
        }
        return found
    }

    /// The services in domains: unit, domain, and whether until the next boot.
    private static func list() {
        var rows = [["UNIT", "DOMAIN", "UNTIL"]]
        for (base, until) in [(persistent, "-"), (runtime, "boot")] {
            for entry in HostFiles.entries(of: base).sorted() where entry.hasSuffix(".service.d") {
                guard let text = HostFiles.read("\(base)/\(entry)/\(ServiceUnit.dropInName)", limit: 65536),
                    let domain = ServiceUnit.domain(inServiceDropIn: text)
                else { continue }
                rows.append([String(entry.dropLast(2)), domain, until])
            }
        }
        if rows.count > 1 { printTable(rows) }
    }

    /// systemd reads its units again (org.freedesktop.systemd1.Manager.Reload),
    /// as `systemctl daemon-reload` does; without systemd, nothing to do.
    private static func reloadSystemd() throws(CommandFailure) {
        guard access("/run/systemd/system", F_OK) == 0 else { return }
        do {
            _ = try BusConnection.system(trustEnvironment: true).call(
                "org.freedesktop.systemd1", "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", "Reload", timeout: 90)
        } catch { throw CommandFailure("the drop-ins are written, but systemd did not reload: \(error.message) (run systemctl daemon-reload)") }
    }
}

/// `pvd wait DOMAIN`: until the domain exists (its namespace mounted and its
/// resolv.conf written: pvdd has made it); with `--stay`, then until that
/// namespace goes or another takes its place. Under systemd (NOTIFY_SOCKET)
/// it says READY=1 when the domain is there: `pvd-domain@DOMAIN.service`.
struct Wait: CommandLineCommand {
    static let command = Command(
        "wait", abstract: "Wait until a domain exists; with --stay, then until it goes (pvd-domain@.service).",
        arguments: [Argument("domain", help: "The domain's full name.")],
        options: [
            .value("timeout", "seconds", help: "Give up after this many seconds (default: wait for ever)."),
            .flag("stay", help: "Once the domain exists, stay until it is removed or made anew, then exit with status 1."),
        ],
        action: action)
    let domain: String
    let timeout: Double?
    let stay: Bool

    init(_ arguments: Arguments) throws(UsageError) {
        domain = arguments.argument("domain") ?? ""
        timeout = try arguments.value("timeout", as: Double.self)
        stay = arguments.flag("stay")
        do { try DomainNaming.validate(domain) } catch { throw UsageError("\(error)") }
        if let timeout, !(timeout >= 0 && timeout < 1e9) { throw UsageError("--timeout takes seconds: 0 or more") }
    }

    func run() throws {
        let namespace = Paths.namespace(DomainNaming.namespace(ofDomain: domain))
        let resolvConf = Paths.files(ofNamespace: DomainNaming.namespace(ofDomain: domain)) + "/resolv.conf"
        let start = SystemClock.monotonic
        var inode: ino_t?
        while true {
            if Namespaces.isNamespaceFile(namespace), let found = Namespaces.inode(namespace), access(resolvConf, F_OK) == 0 { inode = found }
            if inode != nil { break }
            if let timeout, SystemClock.monotonic - start >= timeout {
                printError("domain \(domain) does not exist after \(timeout) s")
                throw ExitStatus(1)
            }
            usleep(200_000)
        }
        printLine("domain \(domain) is there (\(namespace))")
        EventLoop.notifyReady()
        guard stay, let inode else { return }
        let watch = inotify_init1(Int32(IN_CLOEXEC))
        if watch >= 0 { _ = inotify_add_watch(watch, Paths.namespaces, UInt32(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO)) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Namespaces.inode(namespace) == inode {
            // Woken by a change in /run/netns; every 5 s anyway (an unmount changes no entry).
            var descriptor = pollfd(fd: watch, events: Int16(POLLIN), revents: 0)
            if poll(&descriptor, 1, 5000) > 0 { _ = read(watch, &buffer, buffer.count) }
        }
        printError(Namespaces.inode(namespace) == nil ? "domain \(domain) was removed" : "domain \(domain) was made anew")
        throw ExitStatus(1)
    }
}
