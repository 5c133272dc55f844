extension Command {
    /// The manual page (roff, man(7)) of this command and every subcommand.
    public func manual(section: String, date: String) -> String {
        var page = ".TH \(roff(name.uppercased())) \(section) \"\(roff(date))\" \"\(roff("\(name) \(version ?? "")"))\" \"pvd manual\"\n"
        page += ".SH NAME\n\(roff(name)) \\- \(roff(abstract))\n"
        page += ".SH SYNOPSIS\n\(roff(Command.usage(for: [self]).dropFirst("Usage: ".count)))\n"
        if !discussion.isEmpty { page += ".SH DESCRIPTION\n" + paragraphs(discussion) }
        page += optionsSection(title: "OPTIONS")
        if !subcommands.isEmpty {
            page += ".SH COMMANDS\n"
            for chain in subcommandChains([self]).dropFirst() where chain.last?.action != nil {
                page += manualSection(of: chain)
            }
        }
        return page
    }

    private func subcommandChains(_ chain: [Command]) -> [[Command]] {
        [chain] + (chain.last?.subcommands.flatMap { subcommandChains(chain + [$0]) } ?? [])
    }

    private func manualSection(of chain: [Command]) -> String {
        guard let command = chain.last else { return "" }
        var text = ".SS \"\(roff(chain.map(\.name).joined(separator: " ")))\"\n"
        text += roff(command.abstract) + "\n.PP\n\(roff(Command.usage(for: chain).dropFirst("Usage: ".count)))\n"
        if !command.discussion.isEmpty { text += ".PP\n" + paragraphs(command.discussion) }
        for argument in command.arguments + (command.rest.map { [$0] } ?? []) {
            text += ".TP\n\\fI\(roff(argument.name))\\fR\n\(roff(argument.help))\n"
        }
        for option in command.options { text += entry(option) }
        return text
    }

    private func optionsSection(title: String) -> String {
        var text = ".SH \(title)\n"
        for option in options { text += entry(option) }
        text += ".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nShow the help.\n"
        if version != nil { text += ".TP\n\\fB\\-\\-version\\fR\nShow the version.\n" }
        return text
    }

    private func entry(_ option: Option) -> String {
        let short = option.short.map { "\\fB\\-\($0)\\fR, " } ?? ""
        let value = option.valueName.map { " \\fI\(roff($0))\\fR" } ?? ""
        return ".TP\n\(short)\\fB\\-\\-\(roff(option.long))\\fR\(value)\n\(roff(option.help))\n"
    }

    private func paragraphs(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: true).map { roff($0) + "\n" }.joined(separator: ".PP\n")
    }

    /// Text as roff shows it literally: backslashes and hyphens escaped, no line starting a request.
    private func roff<S: StringProtocol>(_ text: S) -> String {
        var result = ""
        for character in text {
            switch character {
            case "\\": result += "\\e"
            case "-": result += "\\-"
            default: result.append(character)
            }
        }
        if let first = result.first, first == "." || first == "'" { result = "\\&" + result }
        return result
    }
}
