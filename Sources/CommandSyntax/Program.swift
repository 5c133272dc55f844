import Glibc

extension Command {
    /// Reads the process's command line, runs the command it names and
    /// exits: 0 when it returns, 64 on a usage error (with the usage), the
    /// code of an ``ExitStatus``, 1 on any other error (told in one line).
    /// The top command also answers `--generate-completion-script SHELL`
    /// and `--generate-manual SECTION DATE`, for the package's build.
    public func main(_ argv: [String] = CommandLine.arguments) -> Never {
        let words = Array(argv.dropFirst())
        switch (words.first, words.count) {
        case ("--generate-completion-script", 2):
            guard let script = completionScript(for: words[1]) else { Command.exit(64, error: "no completions for the shell \(words[1])") }
            Command.exit(0, output: script)
        case ("--generate-manual", 3):
            Command.exit(0, output: manual(section: words[1], date: words[2]))
        default:
            break
        }
        let request: Request
        do { request = try parse(words) } catch { Command.exit(64, error: error.description) }
        switch request {
        case .help(let text): Command.exit(0, output: text)
        case .version(let version): Command.exit(0, output: version + "\n")
        case .run(let command, let arguments):
            do {
                try command.action?(arguments)
            } catch let error as ExitStatus {
                Command.exit(error.code)
            } catch let error as UsageError {
                let chain = chain(to: arguments.path)
                Command.exit(64, error: CommandLineError(error.description, chain: chain).description)
            } catch {
                Command.exit(1, error: "\(arguments.path.joined(separator: " ")): \(error)")
            }
            Command.exit(0)
        }
    }

    /// The commands named by `path`, this one first.
    func chain(to path: [String]) -> [Command] {
        var chain = [self]
        for name in path.dropFirst() {
            guard let next = chain.last?.subcommand(name) else { break }
            chain.append(next)
        }
        return chain
    }

    private static func exit(_ code: Int32, output: String = "", error: String = "") -> Never {
        for (text, descriptor) in [(output, STDOUT_FILENO), (error.isEmpty ? "" : error + "\n", STDERR_FILENO)] where !text.isEmpty {
            var text = text
            text.withUTF8 { bytes in
                guard let start = bytes.baseAddress else { return }
                var done = 0
                while done < bytes.count {
                    let written = write(descriptor, start + done, bytes.count - done)
                    if written <= 0 { break }
                    done += written
                }
            }
        }
        Glibc.exit(code)
    }
}
