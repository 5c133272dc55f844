import CommandSyntax
import Glibc
import LinuxSystem
import PvDExec
import UserDatabase

/// `pvd exec`'s help and the argument orders `pvd` does not read itself
/// (``ExecRequest/parse(_:)``): the request goes back to `pvd`, which holds
/// the file capabilities, unless root runs it here.
struct Exec: CommandLineCommand {
    static let command = Command(
        "exec", abstract: "Run a command inside a domain, as the calling user.",
        discussion: """
            Works for root, through sudo (CMD runs as the user who ran sudo, with their HOME, USER, LOGNAME and \
            SHELL, unless --as-root), and for other users when pvd has the file capability scripts/install gives \
            it and pvdd.yaml's access section lets them use the domain. Without CMD, your shell. A browser pvd \
            knows (Firefox, Chromium, Chrome) gets a profile of its own for the domain, so that it does not hand \
            the page to an instance running outside; add others in ~/.config/pvd/browsers.
            """,
        arguments: [Argument("name", help: "The domain's name, or an unambiguous start of it; with --for, a host name or URL.")],
        options: [
            .flag("as-root", help: "Under sudo, keep running as root."),
            .flag("for", help: "NAME is a destination: run in the domain that claims it (see pvd which)."),
            .flag("quiet", short: "q", help: "No note about a program that hands requests over (~/.config/pvd/hand-over) running outside."),
        ],
        rest: Argument("command", help: "The command and its arguments (after --); none: your shell.", optional: true, repeats: true),
        action: action)
    let request: ExecRequest

    init(_ arguments: Arguments) throws(UsageError) {
        let name = arguments.argument("name") ?? ""
        var command = arguments.rest
        var asRoot = arguments.flag("as-root")
        var quiet = arguments.flag("quiet")
        var forDestination = arguments.flag("for")
        // pvd exec's own options may also follow NAME; anything else before -- is a mistake worth a hint.
        while let word = command.first, word.hasPrefix("-"), word != "--" {
            switch word {
            case "--as-root": asRoot = true
            case "--quiet", "-q": quiet = true
            case "--for": forDestination = true
            default:
                throw UsageError("\(word) is not an option of pvd exec; the command goes after --: pvd exec \(name) -- CMD \(word) …")
            }
            command.removeFirst()
        }
        if command.first == "--" { command.removeFirst() }
        request = ExecRequest(asRoot: asRoot, quiet: quiet, forDestination: forDestination, name: name, command: command)
    }

    func run() throws { request.runHere() }
}

extension ExecRequest {
    /// Runs the request in this program as root (with the user database it
    /// links, for sudo); for anyone else, hands it to `pvd`.
    func runHere() -> Never {
        if getuid() == 0 {
            run(lookingUpUsersWith: { uid in
                UserAccount(uid: uid).map { ExecRequest.User(name: $0.name, gid: $0.gid, groups: $0.groupIDs(), home: $0.home, shell: $0.shell) }
            })
        }
        Programs.exec("pvd", argv: ["pvd", "exec"] + arguments)
    }
}
