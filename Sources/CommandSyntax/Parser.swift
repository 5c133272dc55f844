/// What a command line asks for.
public enum Request {
    case run(Command, Arguments)
    case help(String)
    case version(String)
}

extension Command {
    /// Reads `words` (argv without the program's name) against this command
    /// and its subcommands. Options may come before, between and after the
    /// arguments; `--` ends them; `-h`/`--help` and `help COMMAND…` ask for help.
    public func parse(_ words: [String]) throws(CommandLineError) -> Request {
        var command = self
        var chain = [self]
        var given = Arguments(path: [name])
        var argumentIndex = 0
        var optionsEnded = false
        var index = 0
        func fail(_ message: String) -> CommandLineError { CommandLineError(message, chain: chain) }

        if words.first == "help", !subcommands.isEmpty {
            var target = [self]
            for word in words.dropFirst() {
                guard let next = target.last?.subcommand(word) else { throw fail("no command \(word); see \(name) --help") }
                target.append(next)
            }
            return .help(Command.help(for: target))
        }
        while index < words.count {
            let word = words[index]
            index += 1
            // Once a command's arguments are given, its rest takes every word as it is, options too.
            if !given.rest.isEmpty || (command.rest != nil && argumentIndex == command.arguments.count && argumentIndex > 0) {
                given.rest.append(word)
                continue
            }
            if !optionsEnded, word == "--" {
                if command.rest != nil, argumentIndex >= command.requiredArguments {
                    given.rest.append(word)
                } else {
                    optionsEnded = true
                }
                continue
            }
            if !optionsEnded, word.hasPrefix("-"), word.count > 1 {
                if word == "--help" || word == "-h" { return .help(Command.help(for: chain)) }
                if word == "--version", let version = chain.first?.version, chain.count == 1 { return .version(version) }
                let (options, inline) = try command.options(in: word, chain: chain)
                for option in options {
                    var texts: [String] = []
                    if option.isFlag {
                        guard inline == nil else { throw fail("--\(option.long) takes no value") }
                    } else if let inline {
                        texts = [inline]
                    } else if option.takesSeveral {
                        while index < words.count, !words[index].hasPrefix("-") || Double(words[index]) != nil {
                            texts.append(words[index])
                            index += 1
                        }
                        guard !texts.isEmpty else { throw fail("--\(option.long) needs at least one value") }
                    } else {
                        guard index < words.count, !words[index].hasPrefix("--") else {
                            throw fail("--\(option.long) needs a value (\(option.valueName ?? "value"))")
                        }
                        texts = [words[index]]
                        index += 1
                    }
                    if option.isFlag || !option.repeats { given.values[option.long] = [] }
                    given.values[option.long, default: []] += texts
                }
                continue
            }
            // A command with subcommands and arguments of its own (`pvd stage FILE`, `pvd stage show`)
            // takes a word that names no subcommand as its first argument.
            if argumentIndex == 0, given.words.isEmpty, !command.subcommands.isEmpty,
                command.subcommand(word) != nil || command.arguments.isEmpty
            {
                guard let next = command.subcommand(word) else {
                    throw fail("no command \(word); commands: \(command.subcommands.map(\.name).joined(separator: ", "))")
                }
                command = next
                chain.append(next)
                given.path.append(next.name)
                continue
            }
            if argumentIndex < command.arguments.count {
                let argument = command.arguments[argumentIndex]
                given.words[argument.name, default: []].append(word)
                if !argument.repeats { argumentIndex += 1 }
                continue
            }
            guard command.rest != nil else { throw fail("unexpected argument \(word)") }
            given.rest.append(word)
        }
        guard command.action != nil else { return .help(Command.help(for: chain)) }
        for argument in command.arguments where !argument.optional && given.words[argument.name] == nil {
            throw fail("missing <\(argument.name)>")
        }
        return .run(command, given)
    }

    var requiredArguments: Int { arguments.filter { !$0.optional }.count }

    /// The options a word names: `--long[=value]`, or `-abc` as one-letter flags.
    private func options(in word: String, chain: [Command]) throws(CommandLineError) -> ([Option], String?) {
        if word.hasPrefix("--") {
            let body = word.dropFirst(2)
            let name = body.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let option = options.first(where: { $0.long == name[0] }) else {
                throw CommandLineError("unknown option --\(name[0])", chain: chain)
            }
            return ([option], name.count > 1 ? String(name[1]) : nil)
        }
        var found: [Option] = []
        for letter in word.dropFirst() {
            guard let option = options.first(where: { $0.short == letter }) else { throw CommandLineError("unknown option -\(letter)", chain: chain) }
            found.append(option)
        }
        return (found, nil)
    }
}

/// A command line that cannot be read: the message and the command it was for.
public struct CommandLineError: Error, CustomStringConvertible {
    public var message: String
    /// The top command down to the one being read.
    public var chain: [Command]

    init(_ message: String, chain: [Command]) {
        self.message = message
        self.chain = chain
    }

    public var description: String {
        let path = chain.map(\.name).joined(separator: " ")
        return "\(path): \(message)\n\(Command.usage(for: chain))\nSee '\(path) --help'."
    }
}
