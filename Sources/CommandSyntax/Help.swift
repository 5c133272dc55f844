extension Command {
    /// `pvd remove <name>`, `pvd add [<options>] <name>`: the last command of `chain` with its path.
    public static func usage(for chain: [Command]) -> String {
        guard let command = chain.last else { return "" }
        var parts = ["Usage:", chain.map(\.name).joined(separator: " ")]
        if !command.subcommands.isEmpty, command.action == nil { parts.append("<command>") }
        if command.options.count > 3 {
            parts.append("[<options>]")
        } else {
            parts += command.options.map { option in
                let shown = option.isFlag ? "--\(option.long)" : "--\(option.long) <\(option.valueName ?? "")>"
                return option.repeats ? "[\(shown) …]" : "[\(shown)]"
            }
        }
        parts += command.arguments.map { argument in
            let shown = "<\(argument.name)>" + (argument.repeats ? " …" : "")
            return argument.optional ? "[\(shown)]" : shown
        }
        if let rest = command.rest { parts.append("[-- <\(rest.name)> …]") }
        return parts.joined(separator: " ")
    }

    /// The help of the last command of `chain`, as `--help` prints it.
    public static func help(for chain: [Command]) -> String {
        guard let command = chain.last else { return "" }
        var text = "\(command.abstract)\n\n\(usage(for: chain))\n"
        if !command.discussion.isEmpty { text += "\n" + wrapped(command.discussion, indent: "") + "\n" }
        let arguments = command.arguments + (command.rest.map { [$0] } ?? [])
        if !arguments.isEmpty {
            text += "\nArguments:\n" + table(arguments.map { ("<\($0.name)>", $0.help) })
        }
        var options = command.options.map { option in
            let short = option.short.map { "-\($0), " } ?? ""
            return (short + "--\(option.long)" + (option.valueName.map { " <\($0)>" } ?? ""), option.help)
        }
        options.append(("-h, --help", "Show this help."))
        if command.version != nil { options.append(("--version", "Show the version.")) }
        text += "\nOptions:\n" + table(options)
        if !command.subcommands.isEmpty {
            text += "\nCommands:\n" + table(command.subcommands.map { ($0.name, $0.abstract) })
            text += "\nSee '\(chain.map(\.name).joined(separator: " ")) help <command>' for a command's help.\n"
        }
        return text
    }

    /// Two columns: names, then what they are, wrapped under the second column.
    static func table(_ rows: [(String, String)]) -> String {
        let width = min(28, (rows.map(\.0.count).max() ?? 0) + 4)
        var text = ""
        for (name, help) in rows {
            let indent = String(repeating: " ", count: width)
            let body = wrapped(help, indent: indent)
            let first = body.dropFirst(width)
            if name.count + 4 <= width {
                text += "  " + name + String(repeating: " ", count: width - name.count - 2) + first + "\n"
            } else {
                text += "  \(name)\n" + body + "\n"
            }
        }
        return text
    }

    /// `text` wrapped at 80 columns, each line after `indent`; blank lines kept.
    static func wrapped(_ text: String, indent: String) -> String {
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = indent
            for word in paragraph.split(separator: " ") {
                if line.count > indent.count, line.count + 1 + word.count > 80 {
                    lines.append(line)
                    line = indent
                }
                line += (line.count > indent.count ? " " : "") + word
            }
            lines.append(line.count > indent.count ? line : "")
        }
        return lines.joined(separator: "\n")
    }
}
