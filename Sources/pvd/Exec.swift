import ArgumentParser
import Bus
import Glibc
import HostNet
import PvDCore

/// `pvd exec NAME -- CMD…` (DESIGN.md, "pvd exec, step by step"): this
/// process asks pvdd for the domain's namespace, enters it with the domain's
/// DNS, becomes the calling user without any capability, and execs CMD, so
/// that exit status and signals are CMD's own. No thread may start before
/// the exec: setns, unshare and the credentials are per thread.
struct Exec: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a command inside a domain, as the calling user.",
        discussion: """
            Works for root, through sudo (CMD runs as the user who ran sudo unless --as-root), and for other users \
            when pvd has the file capabilities scripts/install gives it and pvdd.yaml's access section lets them \
            use the domain.
            """)

    @Flag(help: "Under sudo, keep running as root.") var asRoot = false
    @Argument(help: "The domain's name, or an unambiguous start of it.") var name: String
    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments (after --).") var command: [String] = []

    func run() throws {
        var command = command
        if command.first == "--" { command.removeFirst() }
        guard !command.isEmpty else { throw ValidationError("no command to run: pvd exec NAME -- CMD…") }
        ExecRequest(asRoot: asRoot, name: name, command: command).run()
    }
}

/// One `pvd exec`. main.swift runs it before swift-argument-parser starts
/// (whose reflection costs milliseconds on every run); `--help` and
/// anything it cannot read go through ``Exec`` instead.
struct ExecRequest {
    var asRoot = false
    var name: String
    var command: [String]

    /// `[--as-root] NAME [--] CMD…`; nil for anything else.
    static func parse(_ arguments: [String]) -> ExecRequest? {
        var rest = arguments[...]
        let asRoot = rest.first == "--as-root"
        if asRoot { rest = rest.dropFirst() }
        guard let name = rest.first, !name.hasPrefix("-") else { return nil }
        rest = rest.dropFirst()
        if rest.first == "--" { rest = rest.dropFirst() } else if rest.first?.hasPrefix("-") == true { return nil }
        guard !rest.isEmpty else { return nil }
        return ExecRequest(asRoot: asRoot, name: name, command: Array(rest))
    }

    /// Enters the domain and execs the command; returns only by exiting.
    func run() -> Never {
        do {
            try enterAndExec(program: command[0], arguments: command)
        } catch {
            printError(error.message)
            exit(error.status)
        }
        exit(1)
    }

    /// Who CMD runs as: the user behind sudo, root with --as-root or without
    /// sudo, and otherwise the real user. Only root's environment is trusted.
    private func targetUser(trusted: Bool) throws(ExecFailure) -> UserAccount {
        var uid = getuid()
        if trusted, !asRoot, let sudoUID = getenv("SUDO_UID").flatMap({ uid_t(String(cString: $0)) }) { uid = sudoUID }
        if !trusted, asRoot { throw ExecFailure("--as-root is for root (or sudo) only", status: 2) }
        guard let account = UserAccount(uid: uid) else { throw ExecFailure("uid \(uid) has no entry in the user database", status: 1) }
        return account
    }

    private func enterAndExec(program: String, arguments: [String]) throws(ExecFailure) -> Never {
        let trusted = isTrustedCaller
        let user = try targetUser(trusted: trusted)
        let fd: Int32
        let namespace: String
        do throws(BusError) {
            // Privileged: the bus at its fixed address, never one from the environment.
            (fd, namespace) = try PvDClient(trustEnvironment: trusted).open(name)
        } catch {
            throw ExecFailure(error.message, status: 1)
        }
        do throws(HostNetError) {
            try DomainEntry.enter(namespace: fd, named: namespace)
            close(fd)
            if user.uid != 0 {
                try DomainEntry.become(user: user.name, uid: user.uid, gid: user.gid)
            }
        } catch {
            let hint = error.code == EPERM ? " (pvd exec needs root, sudo, or the file capabilities scripts/install gives it)" : ""
            throw ExecFailure("\(error)\(hint)", status: 1)
        }
        warnIfRunningOutside(program, uid: user.uid)
        let argv = arguments.map { strdup($0) } + [nil]
        execvp(program, argv)
        let failure = errno
        throw ExecFailure("cannot run \(program): \(String(cString: strerror(failure)))", status: failure == ENOENT ? 127 : 126)
    }

    /// Programs such as browsers hand a new request to an instance already
    /// running elsewhere, which would take it out of the domain: say so.
    private func warnIfRunningOutside(_ program: String, uid: uid_t) {
        let name = String(program.split(separator: "/").last ?? "")
        guard let pid = Namespaces.processRunningElsewhere(command: name, uid: uid) else { return }
        printError("note: \(name.prefix(15)) is already running outside this domain (pid \(pid)); "
            + "it may take this request over. Start it with its own profile (for Firefox: --no-remote -P) to keep it inside.")
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
