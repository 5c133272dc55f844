/// A command line declared as data: a command's words, options and
/// subcommands, from which ``Command/parse(_:)`` reads argv and the help, the
/// manual page and the shell completions are written. It replaces
/// swift-argument-parser, which links Foundation into every program.
public struct Command: Sendable {
    /// What the command does with what was given on its command line.
    public typealias Action = @Sendable (Arguments) throws -> Void

    public var name: String
    /// One line: what the command does.
    public var abstract: String
    /// More, in paragraphs separated by blank lines.
    public var discussion: String
    public var arguments: [Argument]
    public var options: [Option]
    public var subcommands: [Command]
    /// The words after the arguments, taken as they are (`pvd exec NAME -- CMD …`).
    public var rest: Argument?
    /// The program's version, answered to `--version` (the top command only).
    public var version: String?
    /// Nil for a command that only groups subcommands.
    public var action: Action?

    public init(
        _ name: String, abstract: String, discussion: String = "", arguments: [Argument] = [], options: [Option] = [],
        subcommands: [Command] = [], rest: Argument? = nil, version: String? = nil, action: Action? = nil
    ) {
        self.name = name
        self.abstract = abstract
        self.discussion = discussion
        self.arguments = arguments
        self.options = options
        self.subcommands = subcommands
        self.rest = rest
        self.version = version
        self.action = action
    }

    /// The subcommand called `name`.
    public func subcommand(_ name: String) -> Command? { subcommands.first { $0.name == name } }
}

/// What a shell completes an option's value or an argument with.
public enum Completion: Sendable, Equatable {
    case none
    case file
    case directory
    case interface
    case words([String])
}

/// A word on the command line that is not an option.
public struct Argument: Sendable {
    public var name: String
    public var help: String
    public var optional: Bool
    /// Takes every remaining word (`pvd-hostnet remove NAME…`).
    public var repeats: Bool
    public var completion: Completion

    public init(_ name: String, help: String, optional: Bool = false, repeats: Bool = false, completion: Completion = .none) {
        self.name = name
        self.help = help
        self.optional = optional
        self.repeats = repeats
        self.completion = completion
    }
}

/// `--long VALUE`, `--long=VALUE`, or a flag `--long` (with a one-letter `-x`).
public struct Option: Sendable {
    public var long: String
    public var short: Character?
    /// The value's name in help (`--config <file>`); nil for a flag.
    public var valueName: String?
    public var help: String
    /// Given more than once, every value is kept (`--address A --address B`).
    public var repeats: Bool
    /// Takes the words after it up to the next option (`--counts 1 10 100`).
    public var takesSeveral: Bool
    public var completion: Completion

    /// An option with a value.
    public static func value(
        _ long: String, _ valueName: String? = nil, help: String, repeats: Bool = false, takesSeveral: Bool = false,
        completion: Completion = .none
    ) -> Option {
        Option(
            long: long, short: nil, valueName: valueName ?? long, help: help, repeats: repeats || takesSeveral, takesSeveral: takesSeveral,
            completion: completion)
    }

    /// A flag: there or not.
    public static func flag(_ long: String, short: Character? = nil, help: String) -> Option {
        Option(long: long, short: short, valueName: nil, help: help, repeats: false, takesSeveral: false, completion: .none)
    }

    public var isFlag: Bool { valueName == nil }
}

/// A command line that does not fit its command: told with the command's
/// usage, exit status 64 (EX_USAGE).
public struct UsageError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Ends the program with `code`, having said what there was to say.
public struct ExitStatus: Error {
    public var code: Int32
    public init(_ code: Int32) { self.code = code }
}
