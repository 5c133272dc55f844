import CommandSyntax
import PvDWire
import Testing

/// Reading command lines against a declared command, and what is written from one.
struct CommandSyntaxTests {
    static let add = Command(
        "add", abstract: "Add a domain.", arguments: [Argument("name", help: "The name.")],
        options: [
            .value("uplink", help: "The uplink."), .value("address", help: "An address.", repeats: true),
            .value("sequence", "number", help: "A number."), .flag("quiet", short: "q", help: "Say less."),
            .value("counts", "n", help: "Numbers.", takesSeveral: true),
        ],
        action: { _ in })
    static let exec = Command(
        "exec", abstract: "Run.", arguments: [Argument("name", help: "The domain.")], options: [.flag("quiet", short: "q", help: "Say less.")],
        rest: Argument("command", help: "The command.", optional: true, repeats: true), action: { _ in })
    static let top = Command(
        "pvd", abstract: "The tool.",
        subcommands: [add, exec, Command("lab", abstract: "Labs.", subcommands: [Command("up", abstract: "Make it.", action: { _ in })])],
        version: "1.2.3")

    func arguments(_ words: [String]) throws -> Arguments {
        guard case .run(_, let arguments) = try Self.top.parse(words) else { throw UsageError("not a run: \(words)") }
        return arguments
    }

    func refusal(_ words: [String]) -> String? {
        do {
            _ = try Self.top.parse(words)
            return nil
        } catch {
            return error.message
        }
    }

    @Test func optionsGoBeforeBetweenAndAfterArguments() throws {
        let given = try arguments(["add", "--uplink", "eth0", "corp", "--address=2001:db8::1", "--address", "2001:db8::2", "-q"])
        #expect(given.path == ["pvd", "add"])
        #expect(given.argument("name") == "corp")
        #expect(given.value("uplink") == "eth0")
        #expect(given.values("address") == ["2001:db8::1", "2001:db8::2"])
        #expect(given.flag("quiet"))
        #expect(!given.flag("uplink") || given.value("uplink") != nil)
    }

    @Test func aRepeatedSingleOptionKeepsTheLast() throws {
        #expect(try arguments(["add", "x", "--uplink", "a", "--uplink", "b"]).values("uplink") == ["b"])
    }

    @Test func numbersAreCheckedWhereTheyAreRead() throws {
        let given = try arguments(["add", "x", "--sequence", "70000"])
        #expect(throws: UsageError.self) { try given.value("sequence", as: UInt16.self) }
        #expect(try arguments(["add", "x", "--sequence", "7"]).value("sequence", as: UInt16.self) == 7)
    }

    @Test func severalValuesRunToTheNextOption() throws {
        let given = try arguments(["add", "x", "--counts", "1", "10", "100", "-q"])
        #expect(try given.values("counts", as: Int.self) == [1, 10, 100])
        #expect(given.flag("quiet"))
    }

    @Test func theRestIsTakenAsGiven() throws {
        let given = try arguments(["exec", "-q", "corp", "--", "ls", "-l", "--help"])
        #expect(given.argument("name") == "corp")
        #expect(given.flag("quiet"))
        #expect(given.rest == ["--", "ls", "-l", "--help"])
        #expect(try arguments(["exec", "corp", "id", "-u"]).rest == ["id", "-u"])
        #expect(try arguments(["exec", "corp", "--verbose", "-q"]).rest == ["--verbose", "-q"])
    }

    @Test(
        arguments: [
            (["add"], "missing <name>"), (["add", "x", "--nope"], "unknown option --nope"), (["add", "x", "-z"], "unknown option -z"),
            (["add", "x", "--uplink"], "--uplink needs a value (uplink)"), (["add", "x", "--quiet=yes"], "--quiet takes no value"),
            (["add", "x", "y"], "unexpected argument y"), (["nosuch"], "no command nosuch; commands: add, exec, lab"),
            (["add", "x", "--counts", "-q"], "--counts needs at least one value"), (["help", "nosuch"], "no command nosuch; see pvd --help"),
        ] as [([String], String)])
    func badCommandLinesAreNamed(words: [String], message: String) {
        #expect(refusal(words) == message)
    }

    @Test func helpVersionAndGroups() throws {
        guard case .help(let text) = try Self.top.parse(["add", "--help"]) else {
            Issue.record("no help")
            return
        }
        #expect(text.hasPrefix("Add a domain.\n\nUsage: pvd add [<options>] <name>\n"))
        #expect(text.contains(text: "  --address <address>"))
        guard case .help(let nested) = try Self.top.parse(["help", "lab", "up"]) else {
            Issue.record("no help")
            return
        }
        #expect(nested.contains(text: "Usage: pvd lab up"))
        guard case .help(let group) = try Self.top.parse(["lab"]) else {
            Issue.record("a group runs")
            return
        }
        #expect(group.contains(text: "Commands:\n  up"))
        guard case .version(let version) = try Self.top.parse(["--version"]) else {
            Issue.record("no version")
            return
        }
        #expect(version == "1.2.3")
    }

    @Test func theManualHasEveryCommandAndOption() {
        let page = Self.top.manual(section: "1", date: "2026-12-07")
        #expect(page.hasPrefix(".TH PVD 1 \"2026\\-12\\-07\""))
        for expected in [".SS \"pvd add\"", ".SS \"pvd lab up\"", "\\fB\\-\\-uplink\\fR \\fIuplink\\fR", "\\fB\\-q\\fR, \\fB\\-\\-quiet\\fR"] {
            #expect(page.contains(text: expected), "\(expected)")
        }
    }

    @Test func completionsKnowTheCommandsAndOptions() throws {
        let bash = try #require(Self.top.completionScript(for: "bash"))
        #expect(bash.contains(text: "\"pvd add\"|\"pvd exec\"|\"pvd lab\"|\"pvd lab up\") path="))
        #expect(bash.contains(text: "\"pvd add\") COMPREPLY=($(compgen -W \"--uplink --address --sequence --quiet --counts --help\""))
        #expect(bash.hasSuffix("complete -F _pvd pvd\n"))
        let zsh = try #require(Self.top.completionScript(for: "zsh"))
        #expect(zsh.hasPrefix("#compdef pvd\n"))
        let fish = try #require(Self.top.completionScript(for: "fish"))
        #expect(fish.contains(text: "complete -c pvd -n '__fish_use_subcommand' -a add -d 'Add a domain.'"))
        #expect(fish.contains(text: "complete -c pvd -n '__fish_seen_subcommand_from add' -l uplink -r -d 'The uplink.'"))
        #expect(Self.top.completionScript(for: "tcsh") == nil)
    }
}
