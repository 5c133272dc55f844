import BusWire
import CommandSyntax
import PvDConfig
import PvDCore
import PvDWire
import Systemd

/// `pvd stage`: changes gathered in a candidate pvdd keeps, committed at once by `pvd commit`.
struct Stage: DaemonCommand {
    static let command = Command(
        "stage", abstract: "Stage FILE's entries in the candidate state that pvd commit applies as one transaction.",
        discussion: """
            Each entry of FILE (a domain, VPN domain or namespace, as pvd apply reads them) replaces the \
            candidate's entry of that name; entries FILE does not name stay. pvd stage add and pvd stage remove \
            change one entry. The candidate remembers the declared state it was made from: pvd commit refuses it \
            when that changed meanwhile. Staging is root's, or a user's whom polkit authorizes.
            """,
        arguments: [Argument("file", help: "A YAML file of entries, as pvd show --yaml prints.", completion: .file)],
        subcommands: [StageAdd.command, StageRemove.command, StageShow.command, StageDiscard.command],
        action: action)
    let file: String

    init(_ arguments: Arguments) { file = arguments.argument("file") ?? "" }

    func run(with client: PvDClient) throws(BusError) {
        let text: String
        do { text = String(decoding: try readFile(file, limit: YAMLLimits.maximumBytes), as: UTF8.self) } catch {
            throw BusError(PvDBusAPI.ErrorName.invalidArguments, error.description)
        }
        printStaged(try client.manager(.stageState, [.string(text)]))
    }
}

/// What the candidate would change, as StageState and StageRemove return it.
private func printStaged(_ reply: [BusValue]) {
    guard case .array(_, let values)? = reply.first else { return }
    let changes = values.compactMap(\.text)
    printLine(changes.isEmpty ? "staged: the candidate changes nothing" : "staged; pvd commit would:")
    for change in changes { printLine("  " + change) }
}

struct StageAdd: DaemonCommand {
    static let command = Command(
        "add", abstract: "Stage a static or VPN domain, with pvd add's settings.", arguments: Add.command.arguments,
        options: Add.command.options, action: action)
    let add: Add

    init(_ arguments: Arguments) throws(UsageError) { add = try Add(arguments) }

    func run(with client: PvDClient) throws(BusError) {
        printStaged(try client.manager(.stageState, [.string(try add.declaredEntry().yaml)]))
    }
}

struct StageRemove: DaemonCommand {
    static let command = Command(
        "remove", abstract: "Stage the removal of a domain, VPN domain or namespace.",
        arguments: [Argument("name", help: "The entry's name.")], action: action)
    let name: String

    init(_ arguments: Arguments) { name = arguments.argument("name") ?? "" }

    func run(with client: PvDClient) throws(BusError) { printStaged(try client.manager(.stageRemove, [.string(name)])) }
}

struct StageShow: DaemonCommand {
    static let command = Command(
        "show", abstract: "Print the candidate state and what committing it would change.",
        options: [.flag("diff", help: "The declared state's lines the candidate removes (-) and adds (+) instead.")], action: action)
    let diff: Bool

    init(_ arguments: Arguments) { diff = arguments.flag("diff") }

    func run(with client: PvDClient) throws(BusError) {
        let reply = try client.manager(.getStagedState)
        guard reply.count == 2, let candidate = reply[0].text, case .array(_, let values) = reply[1] else { return }
        if diff {
            let current = try client.manager(.getState).first?.text ?? ""
            for line in Apply.difference(from: current, to: candidate) { printLine(line) }
            return
        }
        printLine(String(candidate.dropLast(candidate.hasSuffix("\n") ? 1 : 0)))
        printLine("# pvd commit would: " + (values.isEmpty ? "change nothing" : values.compactMap(\.text).joined(separator: "; ")))
    }
}

struct StageDiscard: DaemonCommand {
    static let command = Command("discard", abstract: "Forget the staged candidate.", action: action)

    init(_ arguments: Arguments) {}

    func run(with client: PvDClient) throws(BusError) {
        _ = try client.manager(.discardStagedState)
        printLine("discarded the staged candidate")
    }
}

struct Commit: DaemonCommand {
    static let command = Command(
        "commit", abstract: "Apply the staged candidate as one transaction, all or nothing.",
        discussion: """
            Refused, with what changed, when the declared state changed since the candidate was made. With \
            --confirm-within and --verify as pvd apply has them.
            """,
        options: SafeChange.options + [.flag("json", help: "One JSON object: changed, changes, checkpoint, verification.")], action: action)
    let safety: SafeChange

    init(_ arguments: Arguments) throws(UsageError) { safety = try SafeChange(arguments, json: arguments.flag("json")) }

    func run(with client: PvDClient) throws(BusError) {
        try safety.run(with: client) { () throws(BusError) in
            guard case .array(_, let values)? = try client.manager(.commitStagedState).first else { return [] }
            return values.compactMap(\.text)
        }
    }
}
