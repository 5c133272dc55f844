import ArgumentParser
import Glibc
import LinuxSystem
import PvDExec
import UserDatabase

/// `pvd exec`'s help and the argument orders `pvd` does not read itself
/// (``ExecRequest/parse(_:)``): the request goes back to `pvd`, which holds
/// the file capabilities, unless root runs it here.
struct Exec: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a command inside a domain, as the calling user.",
        discussion: """
            Works for root, through sudo (CMD runs as the user who ran sudo unless --as-root), and for other users \
            when pvd has the file capability scripts/install gives it and pvdd.yaml's access section lets them \
            use the domain.
            """)

    @Flag(help: "Under sudo, keep running as root.") var asRoot = false
    @Argument(help: "The domain's name, or an unambiguous start of it.") var name: String
    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments (after --).") var command: [String] = []

    func run() throws {
        var command = command
        if command.first == "--" { command.removeFirst() }
        guard !command.isEmpty else { throw ValidationError("no command to run: pvd exec NAME -- CMD…") }
        ExecRequest(asRoot: asRoot, name: name, command: command).runHere()
    }
}

extension ExecRequest {
    /// Runs the request in this program as root (with the user database it
    /// links, for sudo); for anyone else, hands it to `pvd`.
    func runHere() -> Never {
        if getuid() == 0 { run(lookingUpUsersWith: { UserAccount(uid: $0).map { ($0.gid, $0.groupIDs()) } }) }
        Programs.exec(beside: "pvd", argv: ["pvd", "exec"] + arguments)
    }
}
