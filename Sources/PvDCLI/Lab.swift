import CommandSyntax
import Glibc
import LinuxSystem
import PvDConfig
import PvDCore
import PvDLab
import PvDWire

/// `pvd lab up|down|status FILE`: IPv6 labs of network namespaces from YAML
/// (docs/labs.md). Nothing in the host's own namespace changes: the bridges
/// live in the lab's `NAME-links` namespace.
enum Lab {
    static let command = Command(
        "lab", abstract: "Labs of network namespaces: links, routers sending PvD RAs, hosts with and without pvdd (docs/labs.md).",
        subcommands: [LabUp.command, LabDown.command, LabStatus.command])
}

struct LabUp: CommandLineCommand {
    static let command = Command(
        "up", abstract: "Make the lab: namespaces, links, routers, DNS and information servers, hosts, pvdd, VPN servers.",
        arguments: [Argument("file", help: "The lab's YAML file.", completion: .file)],
        options: [.value("pvdd", "file", help: "The pvdd to run on hosts with pvdd (default: the one installed with pvd).", completion: .file)],
        action: action)
    let file: String
    let pvdd: String?

    init(_ arguments: Arguments) { (file, pvdd) = (arguments.argument("file") ?? "", arguments.value("pvdd")) }

    func run() throws {
        try reportingFailures { try LabRunner(topology: try LabRunner.topology(file), pvdd: pvdd).up() }
    }
}

struct LabDown: CommandLineCommand {
    static let command = Command(
        "down", abstract: "Remove what the lab made (what exists now, also after a crash): programs, pvdd's domains, namespaces, files.",
        arguments: [Argument("lab", help: "The lab's YAML file, or the lab's name.", completion: .file)],
        options: [
            .value("pvdd", "file", help: "The pvdd whose --cleanup removes a host's domains (default: the one installed with pvd).", completion: .file)
        ],
        action: action)
    let lab: String
    let pvdd: String?

    init(_ arguments: Arguments) { (lab, pvdd) = (arguments.argument("lab") ?? "", arguments.value("pvdd")) }

    func run() throws {
        try reportingFailures {
            guard geteuid() == 0 else { throw CommandFailure("pvd lab needs root (it removes network namespaces)") }
            let name = LabTopology.isValidName(lab) && access(lab, F_OK) != 0 ? lab : try LabRunner.topology(lab).name
            LabRunner.down(name: name, pvdd: try LabRunner.pvddPath(pvdd))
        }
    }
}

struct LabStatus: CommandLineCommand {
    static let command = Command(
        "status", abstract: "Show the lab: each node's addresses, default routes and programs, and each pvdd host's domains.",
        arguments: [Argument("file", help: "The lab's YAML file.", completion: .file)], action: action)
    let file: String

    init(_ arguments: Arguments) { file = arguments.argument("file") ?? "" }

    func run() throws {
        try reportingFailures { try LabRunner.status(try LabRunner.topology(file)) }
    }
}

/// Carries out a ``LabPlan`` and takes a lab down again.
struct LabRunner {
    let topology: LabTopology
    let plan: LabPlan
    let pvdd: String
    /// Where commands and programs named without a path are looked up.
    static let searchPath = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
    /// Debian packages of the programs a lab runs.
    static let packages = ["dnsmasq": "dnsmasq-base", "openvpn": "openvpn", "openssl": "openssl", "dbus-daemon": "dbus-daemon", "nsenter": "util-linux"]

    static func topology(_ path: String) throws -> LabTopology {
        let text = String(decoding: try readFile(path, limit: YAMLLimits.maximumBytes), as: UTF8.self)
        do { return try LabTopology(json: try YAMLDocument.parse(text)) } catch { throw CommandFailure("\(path): \(error)") }
    }

    static func pvddPath(_ given: String?) throws -> String {
        if let given { return given }
        guard let found = Programs.find("pvdd") else { throw CommandFailure("where is pvdd? --pvdd PATH") }
        return found
    }

    init(topology: LabTopology, pvdd: String?) throws {
        self.topology = topology
        self.pvdd = try LabRunner.pvddPath(pvdd)
        guard let pvd = Programs.ownPath else { throw CommandFailure("cannot find pvd's own program") }
        plan = topology.plan(now: SystemClock.unixTime, tools: LabTools(pvd: pvd, pvdd: self.pvdd))
    }

    /// The program's path: as given when absolute, else found in ``searchPath``.
    static func executable(_ name: String) throws -> String {
        if name.hasPrefix("/") { return name }
        for directory in searchPath where access("\(directory)/\(name)", X_OK) == 0 { return "\(directory)/\(name)" }
        throw CommandFailure("the lab needs \(name)\(packages[name].map { " (Debian package \($0))" } ?? "")")
    }

    func up() throws {
        guard geteuid() == 0 else { throw CommandFailure("pvd lab needs root (it makes network namespaces)") }
        let existing = topology.namespaces.filter { Namespaces.exists($0) }
        guard existing.isEmpty else {
            throw CommandFailure("lab \(topology.name) is up already (\(existing.joined(separator: ", "))): pvd lab down \(topology.name) first")
        }
        // Every program is there before anything is made.
        for name in Set((plan.commands + plan.programs.map(\.arguments)).map { $0[0] } + ["nsenter", "setsid"]) { _ = try LabRunner.executable(name) }
        do {
            for directory in plan.directories { try HostFiles.makeDirectories(directory) }
            for file in plan.files {
                guard let slash = file.path.lastIndex(of: "/") else { continue }
                try HostFiles.writeAtomically(
                    directory: String(file.path[..<slash]), name: String(file.path[file.path.index(after: slash)...]), contents: file.contents,
                    mode: mode_t(file.mode))
            }
            for command in plan.commands { try LabRunner.run(command) }
            for program in plan.programs { try start(program) }
        } catch {
            printError("pvd lab up \(topology.name): \(error); taking down what was made")
            LabRunner.down(name: topology.name, pvdd: pvdd)
            throw ExitStatus(1)
        }
        print("lab \(topology.name) is up: namespaces \(topology.namespaces.joined(separator: " "))")
        print("files and logs: \(topology.directory)")
        for host in topology.hosts where host.runsPvdd {
            print("pvdd on \(host.name): DBUS_SYSTEM_BUS_ADDRESS=\(topology.busAddress(of: host.name)) pvd status")
        }
    }

    /// Runs a command to its end; a failure says which command and what it printed.
    static func run(_ command: [String]) throws {
        let child = try ChildProcess.spawn(try executable(command[0]), Array(command.dropFirst()), scratch: "/tmp")
        let status = try child.waitForExit()
        let errors = String(decoding: child.collect(limit: 4096).errors, as: UTF8.self)
        guard status == 0 else { throw CommandFailure("`\(command.joined(separator: " "))` failed: \(errors.isEmpty ? "status \(status)" : errors)") }
    }

    /// Starts a program in its namespace, in a session of its own (it
    /// outlives `pvd lab up`), logging to the lab's logs; waits until it is ready.
    func start(_ program: LabPlan.Program) throws {
        let log = "\(topology.directory)/logs/\(program.name).log"
        let arguments =
            ["--net=\(Paths.namespace(program.namespace))", "--", try LabRunner.executable("setsid"), try LabRunner.executable(program.arguments[0])]
            + program.arguments.dropFirst()
        let pid = try ChildProcess.spawnLogging(try LabRunner.executable("nsenter"), arguments, log: log, environment: program.environment)
        let readiness = ChildProcess.wait(for: pid, timeout: program.ready == nil ? 0.05 : 10) {
            guard let ready = program.ready else { return false }
            return HostFiles.readTail(log, bytes: 64 * 1024)?.contains(text: ready) == true
        }
        switch readiness {
        case .ready: return
        case .exited: throw CommandFailure("\(program.name) ended at once: \(HostFiles.readTail(log, bytes: 2000) ?? "")")
        case .timedOut where program.ready == nil: return
        case .timedOut: throw CommandFailure("\(program.name) did not get ready within 10 s: \(HostFiles.readTail(log, bytes: 2000) ?? "")")
        }
    }

    /// The lab's namespaces that exist now, by name.
    static func namespaces(of name: String) -> [String] {
        HostFiles.entries(of: Paths.namespaces).filter { entry in
            guard entry.hasPrefix(name + "-") else { return false }
            return LabTopology.isValidName(String(entry.dropFirst(name.count + 1)))
        }.sorted()
    }

    /// The namespaces by the inode of their file (how /proc names a process's namespace).
    static func inodes(of namespaces: [String]) -> [ino_t: String] {
        var result: [ino_t: String] = [:]
        for namespace in namespaces {
            if let inode = Namespaces.inode(Paths.namespace(namespace)) { result[inode] = namespace }
        }
        return result
    }

    /// Stops every process in the lab's namespaces, has each host's pvdd
    /// remove its domains, deletes the namespaces and the lab's directory.
    static func down(name: String, pvdd: String) {
        let present = namespaces(of: name)
        let inodes = inodes(of: present)
        for signal in [SIGTERM, SIGKILL] {
            let processes = ProcessTable.processes(inNamespaces: inodes)
            for process in processes { kill(process.pid, signal) }
            _ = pollUntil(seconds: 5) { ProcessTable.processes(inNamespaces: inodes).isEmpty }
        }
        let directory = "\(Paths.labs)/\(name)"
        for namespace in present {
            let configuration = "\(directory)/\(namespace.dropFirst(name.count + 1))/pvdd.yaml"
            guard access(configuration, F_OK) == 0 else { continue }
            do {
                try run(["nsenter", "--net=\(Paths.namespace(namespace))", "--", pvdd, "--cleanup", "--config", configuration])
            } catch {
                printError("pvdd --cleanup in \(namespace): \(error)")
            }
            // pvdd's instance lock is named after the namespace, which goes now.
            if let inode = inodes.first(where: { $0.value == namespace })?.key { unlink("\(Paths.runtime)/pvdd-\(inode).lock") }
        }
        for namespace in present {
            do { try Namespaces.delete(namespace) } catch { printError("\(error)") }
        }
        // What a killed pvd announce left of its information servers.
        for interface in HostFiles.entries(of: Paths.announcements) {
            for entry in HostFiles.entries(of: "\(Paths.announcements)/\(interface)")
            where inodes.keys.contains(where: { entry.hasPrefix("\($0)-") }) {
                do { try run(["rm", "-rf", "--", "\(Paths.announcements)/\(interface)/\(entry)"]) } catch { printError("\(error)") }
            }
            rmdir("\(Paths.announcements)/\(interface)")  // when no other lab or router uses it
        }
        rmdir(Paths.announcements)
        if access(directory, F_OK) == 0 {
            do { try run(["rm", "-rf", "--", directory]) } catch { printError("\(error)") }
        }
        print(present.isEmpty ? "lab \(name): nothing to remove" : "lab \(name) is down: removed \(present.joined(separator: " "))")
    }

    /// Each node: its addresses and default routes on the lab's link, its programs; each pvdd host's domains.
    static func status(_ topology: LabTopology) throws {
        let present = namespaces(of: topology.name)
        guard !present.isEmpty else {
            print("lab \(topology.name) is not up")
            return
        }
        let processes = ProcessTable.processes(inNamespaces: inodes(of: present))
        let nodes = topology.routers.map { ("router", $0.name, $0.link, false) } + topology.hosts.map { ("host", $0.name, $0.link, $0.runsPvdd) }
        for (kind, node, link, runsPvdd) in nodes {
            let namespace = topology.namespace(node)
            print("\(kind) \(node) (\(namespace)) on \(link)\(runsPvdd ? ", with pvdd" : kind == "host" ? ", PvD-unaware" : "")")
            guard present.contains(namespace) else {
                print("  not up")
                continue
            }
            print(
                "  addresses: \(output(["ip", "-n", namespace, "-6", "-brief", "addr", "show", "dev", link]).split(separator: " ", omittingEmptySubsequences: true).dropFirst(2).joined(separator: " "))"
            )
            for route in output(["ip", "-n", namespace, "-6", "route", "show", "default"]).split(separator: "\n") { print("  \(route)") }
            for process in processes where process.namespace == namespace { print("  pid \(process.pid): \(process.command.prefix(100))") }
            if runsPvdd {
                print("  pvd list:")
                let text = output([Programs.ownPath ?? "pvd", "list"], environment: ["DBUS_SYSTEM_BUS_ADDRESS": topology.busAddress(of: node)])
                for line in text.split(separator: "\n") { print("    \(line)") }
            }
        }
    }

    /// What a command prints (stdout, then stderr), for status.
    static func output(_ command: [String], environment: [String: String] = [:]) -> String {
        guard let path = try? executable(command[0]) else { return "(no \(command[0]))" }
        let ran = ChildProcess.run(path, Array(command.dropFirst()), scratch: "/tmp", environment: environment)
        let text = String(decoding: ran.output + ran.errors, as: UTF8.self)
        return text.hasSuffix("\n") ? String(text.dropLast()) : text
    }
}
