import BusWire
import CommandSyntax
import Glibc
import LinuxSystem
import PvDConfig
import PvDCore
import Systemd

struct Apply: DaemonCommand {
    static let command = Command(
        "apply", abstract: "Make the declared state (static domains, VPN domains and namespaces) that of FILE, all or nothing.",
        discussion: """
            Applying is root's, or a user's whom polkit authorizes (org.pvd1.manage-domains). --dry-run, --check and \
            --diff are worked out by pvd itself and work for everyone. For configuration management (Ansible, Salt, \
            Puppet): --check changes nothing and exits 0 when the declared state is already FILE's, 2 when applying \
            would change it, 1 on an error (docs/fleet.md).
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
        ],
        action: action)
    let file: String
    let dryRun, check, diff: Bool
    let saveAs: String?
    let directory: String

    init(_ arguments: Arguments) {
        file = arguments.argument("file") ?? ""
        (dryRun, check, diff) = (arguments.flag("dry-run"), arguments.flag("check"), arguments.flag("diff"))
        saveAs = arguments.value("save-as")
        directory = arguments.value("directory") ?? "\(Paths.configuration)/\(ConfigurationFiles.dropInDirectory)"
    }

    func run(with client: PvDClient) throws(BusError) {
        let text: String
        do { text = String(decoding: try readFile(file, limit: YAMLLimits.maximumBytes), as: UTF8.self) } catch {
            throw BusError(PvDBusAPI.ErrorName.invalidArguments, error.description)
        }
        if let saveAs {
            try save(text, as: saveAs, client: client)
            return
        }
        let changesOnly = dryRun || check
        if changesOnly || diff {
            // Worked out here, not by pvdd: a caller's document is parsed by the caller.
            guard case .string(let currentText)? = try client.manager(.getState).first else { return }
            let (current, target): (DeclarativeState, DeclarativeState)
            do {
                target = try DeclarativeState(try YAMLDocument.parse(text))
                current = try DeclarativeState(try YAMLDocument.parse(currentText))
            } catch {
                throw BusError(PvDBusAPI.ErrorName.invalidArguments, "\(file): \(error)")
            }
            if diff { for line in Apply.difference(from: current.yaml, to: target.yaml) { printLine(line) } }
            if changesOnly {
                let changes = current.changes(to: target).map(\.description)
                if changes.isEmpty { printLine("nothing to change") }
                for change in changes { printLine("would " + change) }
                if check, !changes.isEmpty { Glibc.exit(2) }
                return
            }
        }
        guard case .array(_, let values)? = try client.manager(.applyState, [.string(text), .boolean(false)]).first else { return }
        let changes = values.compactMap(\.text)
        if changes.isEmpty { printLine("nothing to change") }
        for change in changes { printLine(change) }
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
        printLine("saved as \(path); pvdd reloaded")
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
