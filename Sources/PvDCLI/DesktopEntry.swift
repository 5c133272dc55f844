import CommandSyntax
import Glibc
import LinuxSystem

/// `pvd desktop-entry NAME APP`: a launcher for APP inside domain NAME,
/// made from APP's own desktop entry, in the user's applications directory.
struct DesktopEntryCommand: CommandLineCommand {
    static let command = Command(
        "desktop-entry",
        abstract: "Write a launcher (\"Firefox (corp)\") that starts an application inside a domain; --remove takes it away.",
        arguments: [
            Argument("name", help: "The domain."),
            Argument("app", help: "The application: its desktop entry's name (firefox-esr, or firefox-esr.desktop)."),
        ],
        options: [.flag("remove", help: "Remove the launcher instead.")], action: action)
    let name, app, id: String
    let remove: Bool

    init(_ arguments: Arguments) throws(UsageError) {
        (name, app, remove) = (arguments.argument("name") ?? "", arguments.argument("app") ?? "", arguments.flag("remove"))
        guard !name.isEmpty, !name.contains("/"), !name.contains(where: { $0.isNewline || $0 == " " }) else {
            throw UsageError("\(name) is not a domain's name")
        }
        id = app.hasSuffix(".desktop") ? String(app.dropLast(".desktop".count)) : app
        guard !id.isEmpty, !id.contains("/") else { throw UsageError("\(app) is not an application's name") }
    }

    func run() throws {
        try reportingFailures { try write() }
    }

    private func write() throws(CommandFailure) {
        let home = getenv("HOME").map { String(cString: $0) } ?? ""
        guard home.hasPrefix("/") else { throw CommandFailure("HOME is not set") }
        let own = (getenv("XDG_DATA_HOME").map { String(cString: $0) } ?? "\(home)/.local/share") + "/applications"
        let target = "\(own)/pvd-\(name)-\(id).desktop"
        if remove {
            guard unlink(target) == 0 else { throw CommandFailure("no launcher: \(systemError("remove", target))") }
            printLine("removed \(target)")
            return
        }
        let searched = getenv("XDG_DATA_DIRS").map { String(cString: $0) } ?? "/usr/local/share:/usr/share"
        let dirs = searched.split(separator: ":").map { "\($0)/applications" }
        let candidates: [String] = ([own] + dirs).map { "\($0)/\(id).desktop" }
        guard let source = candidates.first(where: { access($0, R_OK) == 0 }), let text = HostFiles.read(source) else {
            throw CommandFailure("no desktop entry \(id).desktop in \(([own] + dirs).joined(separator: ", "))")
        }
        let pvd = Programs.find("pvd") ?? "pvd"
        var path = ""
        for part in own.split(separator: "/") {
            path += "/" + part
            mkdir(path, 0o755)
        }
        do {
            try HostFiles.writeAtomically(directory: own, name: "pvd-\(name)-\(id).desktop", contents: DesktopEntry.inDomain(text, domain: name, pvd: pvd))
        } catch {
            throw CommandFailure("\(error)")
        }
        printLine(target)
    }
}

/// Desktop entries (the freedesktop.org format) rewritten to run inside a domain.
enum DesktopEntry {
    /// `text` with every Exec run through `pvd exec DOMAIN --`, every Name
    /// suffixed with ` (DOMAIN)`, D-Bus activation and TryExec dropped (they
    /// would start the application outside), and the domain noted.
    static func inDomain(_ text: String, domain: String, pvd: String) -> String {
        var lines: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let key = line.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
            if key == "DBusActivatable" || key == "TryExec" { continue }
            if key == "Exec" {
                lines.append("Exec=\(pvd) exec \(domain) -- \(line.dropFirst("Exec=".count))")
            } else if key == "Name" || key.hasPrefix("Name[") {
                lines.append("\(line) (\(domain))")
            } else {
                lines.append(line)
            }
            if line == "[Desktop Entry]" { lines.append("X-Pvd-Domain=\(domain)") }
        }
        while lines.last == "" { lines.removeLast() }
        return lines.joined(separator: "\n") + "\n"
    }
}
