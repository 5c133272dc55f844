extension Command {
    /// The completion script for `shell` (bash, zsh or fish), nil for another shell.
    public func completionScript(for shell: String) -> String? {
        switch shell {
        case "bash": bashScript()
        case "zsh": "#compdef \(name)\nautoload -U +X bashcompinit && bashcompinit\n" + bashScript()
        case "fish": fishScript()
        default: nil
        }
    }

    /// Every command with its path from this one, this one first.
    private func chains(_ chain: [Command] = []) -> [[Command]] {
        let here = chain + [self]
        return [here] + subcommands.flatMap { $0.chains(here) }
    }

    private func bashScript() -> String {
        let function = "_" + name.map { $0.isLetter || $0.isNumber ? $0 : "_" }.map(String.init).joined()
        let all = chains()
        let paths = all.map { $0.map(\.name).joined(separator: " ") }
        var script = "# bash completion for \(name)\n\(function)() {\n"
        script += "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} path=\(name) i\n"
        script += "    for ((i = 1; i < COMP_CWORD; i++)); do\n        case \"$path ${COMP_WORDS[i]}\" in\n"
        script += "            " + paths.dropFirst().map { "\"\($0)\"" }.joined(separator: "|") + ") path=\"$path ${COMP_WORDS[i]}\" ;;\n"
        script += "        esac\n    done\n    case \"$path:$prev\" in\n"
        for (chain, path) in zip(all, paths) {
            for option in chain.last?.options ?? [] where !option.isFlag {
                script += "        \"\(path):--\(option.long)\") COMPREPLY=(\(bashWords(option.completion))); return ;;\n"
            }
        }
        script += "    esac\n    case \"$path\" in\n"
        for (chain, path) in zip(all, paths) {
            guard let command = chain.last else { continue }
            let words = command.subcommands.map(\.name) + command.options.map { "--\($0.long)" } + ["--help"]
            let argument = (command.arguments + (command.rest.map { [$0] } ?? [])).first?.completion ?? .none
            script += "        \"\(path)\") COMPREPLY=($(compgen -W \"\(words.joined(separator: " "))\" -- \"$cur\"))"
            if argument != .none { script += "; [[ $cur == -* ]] || COMPREPLY+=(\(bashWords(argument)))" }
            script += " ;;\n"
        }
        script += "    esac\n}\ncomplete -F \(function) \(name)\n"
        return script
    }

    private func bashWords(_ completion: Completion) -> String {
        switch completion {
        case .none: ""
        case .file: "$(compgen -f -- \"$cur\")"
        case .directory: "$(compgen -d -- \"$cur\")"
        case .interface: "$(compgen -W \"$(ls /sys/class/net 2>/dev/null)\" -- \"$cur\")"
        case .words(let words): "$(compgen -W \"\(words.joined(separator: " "))\" -- \"$cur\")"
        }
    }

    private func fishScript() -> String {
        var script = "# fish completion for \(name)\ncomplete -c \(name) -f\n"
        for chain in chains() {
            guard let command = chain.last else { continue }
            let condition: String
            if chain.count == 1 {
                condition = "__fish_use_subcommand"
            } else {
                let siblings = command.subcommands.map(\.name).joined(separator: " ")
                condition = "__fish_seen_subcommand_from \(command.name)" + (siblings.isEmpty ? "" : "; and not __fish_seen_subcommand_from \(siblings)")
            }
            for subcommand in command.subcommands {
                script += "complete -c \(name) -n '\(condition)' -a \(subcommand.name) -d '\(fish(subcommand.abstract))'\n"
            }
            for option in command.options {
                var line = "complete -c \(name) -n '\(condition)' -l \(option.long)"
                if let short = option.short { line += " -s \(short)" }
                if !option.isFlag { line += option.completion == .file || option.completion == .directory ? " -r -F" : " -r" }
                if case .words(let words) = option.completion { line += " -a '\(words.joined(separator: " "))'" }
                script += line + " -d '\(fish(option.help))'\n"
            }
            if command.arguments.first?.completion == .file { script += "complete -c \(name) -n '\(condition)' -F\n" }
        }
        return script
    }

    private func fish(_ text: String) -> String {
        String(text.map { $0 == "'" ? "’" : $0 })
    }
}
