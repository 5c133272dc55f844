import BusWire
import CommandSyntax
import Glibc
import LinuxSystem
import PvDConfig
import PvDCore
import PvDWire
import Systemd

struct Apply: DaemonCommand {
    static let command = Command(
        "apply", abstract: "Make the declared state (static domains, VPN domains and namespaces) that of FILE, all or nothing.",
        discussion: """
            Applying is root's, or a user's whom polkit authorizes (org.pvd1.manage-domains). --dry-run, --check and \
            --diff are worked out by pvd itself and work for everyone. For configuration management (Ansible, Salt, \
            Puppet): --check changes nothing and exits 0 when the declared state is already FILE's, 2 when applying \
            would change it, 1 on an error; --json says the same as one object (docs/fleet.md).

            Safe changes: --confirm-within N makes a checkpoint, applies, verifies what changed, then waits for \
            pvd confirm from any shell, rolling everything back (declared state and drop-ins) when the time runs out \
            or on pvd rollback; --verify rolls the change back at once when a check fails.
            """,
        arguments: [Argument("file", help: "A YAML file, as pvd show --yaml prints.", completion: .file)],
        options: [
            .flag("dry-run", help: "Only show what would change."),
            .flag("check", help: "Change nothing; exit 0 when nothing would change, 2 when something would, 1 on an error."),
            .flag("diff", help: "Show the declared state's lines FILE removes (-) and adds (+), before applying (if at all)."),
            .value(
                "save-as", "name",
                help: "Save FILE as a drop-in NAME.yaml in DIRECTORY (default /etc/pvd/domains.d), so that it "
                    + "stays across restarts, and have pvdd reload (as root)."),
            .value("directory", help: "The drop-in directory for --save-as.", completion: .directory),
            .flag("json", help: "One JSON object: changed, changes, diff (before, after), checkpoint, verification."),
        ] + SafeChange.options,
        action: action)
    let file: String
    let dryRun, check, diff, json: Bool
    let saveAs: String?
    let directory: String
    let safety: SafeChange

    init(_ arguments: Arguments) throws(UsageError) {
        file = arguments.argument("file") ?? ""
        (dryRun, check, diff, json) = (arguments.flag("dry-run"), arguments.flag("check"), arguments.flag("diff"), arguments.flag("json"))
        saveAs = arguments.value("save-as")
        directory = arguments.value("directory") ?? "\(Paths.configuration)/\(ConfigurationFiles.dropInDirectory)"
        safety = try SafeChange(arguments, json: json)
        if safety.isSafe, dryRun || check { throw UsageError("--confirm-within and --verify change something; --dry-run and --check do not") }
    }

    func run(with client: PvDClient) throws(BusError) {
        let text: String
        do { text = String(decoding: try readFile(file, limit: YAMLLimits.maximumBytes), as: UTF8.self) } catch {
            throw BusError(PvDBusAPI.ErrorName.invalidArguments, error.description)
        }
        if let saveAs {
            try safety.run(with: client) { () throws(BusError) in
                let before = try declaredState(client)
                try save(text, as: saveAs, client: client)
                return before.changes(to: try declaredState(client)).map(\.description)
            }
            return
        }
        let changesOnly = dryRun || check
        if changesOnly || diff {
            // Worked out here, not by pvdd: a caller's document is parsed by the caller.
            let current = try declaredState(client)
            let target: DeclarativeState
            do { target = try DeclarativeState(try YAMLDocument.parse(text)) } catch {
                throw BusError(PvDBusAPI.ErrorName.invalidArguments, "\(file): \(error)")
            }
            let changes = current.changes(to: target).map(\.description)
            if json, changesOnly {
                printLine(
                    JSONValue.object([
                        JSONMember("changed", .bool(!changes.isEmpty)), JSONMember("changes", .array(changes.map(JSONValue.string))),
                        JSONMember("diff", .object([JSONMember("before", .string(current.yaml)), JSONMember("after", .string(target.yaml))])),
                    ]).serialized)
            } else if diff, !json {
                for line in Apply.difference(from: current.yaml, to: target.yaml) { printLine(line) }
            }
            if changesOnly {
                if !json, changes.isEmpty { printLine("nothing to change") }
                if !json { for change in changes { printLine("would " + change) } }
                if check, !changes.isEmpty { Glibc.exit(2) }
                return
            }
        }
        try safety.run(with: client) { () throws(BusError) in
            guard case .array(_, let values)? = try client.manager(.applyState, [.string(text), .boolean(false)]).first else { return [] }
            return values.compactMap(\.text)
        }
    }

    /// The declared state pvdd has now.
    private func declaredState(_ client: PvDClient) throws(BusError) -> DeclarativeState {
        guard case .string(let text)? = try client.manager(.getState).first else { return DeclarativeState() }
        do { return try DeclarativeState(try YAMLDocument.parse(text)) } catch {
            throw BusError(PvDBusAPI.ErrorName.failed, "pvdd's declared state does not read: \(error)")
        }
    }

    /// The entries of `old` that `new` lacks (each line `- `) and those it
    /// adds (`+ `). The declared state's YAML has an entry per list item
    /// (a domain or a VPN, with its indented lines) or top-level line.
    static func difference(from old: String, to new: String) -> [String] {
        func entries(_ text: String) -> [[String]] {
            var result: [[String]] = []
            for line in text.split(separator: "\n").map(String.init) where !line.hasPrefix("#") {
                if line.hasPrefix("    "), !result.isEmpty { result[result.count - 1].append(line) } else { result.append([line]) }
            }
            return result
        }
        let (before, after) = (entries(old), entries(new))
        return before.filter { !after.contains($0) }.flatMap { $0.map { "- " + $0 } } + after.filter { !before.contains($0) }.flatMap { $0.map { "+ " + $0 } }
    }

    /// Writes the file as a drop-in once it reads, then has pvdd reload: the
    /// domains are then declared in files (and a reload that fails leaves the
    /// drop-in out again).
    private func save(_ text: String, as name: String, client: PvDClient) throws(BusError) {
        guard (try? DomainNaming.validate(name)) != nil, !name.contains("/") else {
            throw BusError(PvDBusAPI.ErrorName.invalidArguments, "--save-as \(name): use a-z, 0-9, '.', '-', '_'")
        }
        do { _ = try DeclarativeState(try YAMLDocument.parse(text)) } catch {
            throw BusError(PvDBusAPI.ErrorName.invalidArguments, "\(file): \(error)")
        }
        let directory = absolutePath(directory)
        try saveDropIn(text, directory: directory, name: "\(name).yaml", client: client)
        let path = "\(directory)/\(name).yaml"
        if !json { printLine("saved as \(path); pvdd reloaded") }
    }
}

/// Writes (nil: removes) the drop-in `directory/name`, then has pvdd reload;
/// a reload that fails puts the drop-in back as it was.
func saveDropIn(_ text: String?, directory: String, name: String, client: PvDClient) throws(BusError) {
    let path = "\(directory)/\(name)"
    let previous = try? readFile(path, limit: YAMLLimits.maximumBytes)
    func write(_ contents: String?) throws(SystemError) {
        if let contents { try HostFiles.writeAtomically(directory: directory, name: name, contents: contents) } else { unlink(path) }
    }
    do { try write(text) } catch { throw BusError(PvDBusAPI.ErrorName.failed, "\(error)") }
    do { _ = try client.manager(.reload) } catch {
        try? write(previous.map { String(decoding: $0, as: UTF8.self) })
        throw error
    }
}
