/// What a command line gave a command: its options and arguments by name.
public struct Arguments: Sendable {
    /// The command's words from the program on (`["pvd", "lab", "up"]`).
    public var path: [String]
    var values: [String: [String]] = [:]
    var words: [String: [String]] = [:]
    /// The words after the arguments, as given (see ``Command/rest``).
    public var rest: [String] = []

    init(path: [String]) { self.path = path }

    /// Whether the flag `--long` was given.
    public func flag(_ long: String) -> Bool { values[long] != nil }

    /// The value of `--long`, the last one when it was given more than once.
    public func value(_ long: String) -> String? { values[long]?.last }

    /// Every value of `--long`, in order.
    public func values(_ long: String) -> [String] { values[long] ?? [] }

    /// The value of `--long` read as a `T` (a number); a usage error when it is not one.
    public func value<T: LosslessStringConvertible>(_ long: String, as type: T.Type) throws(UsageError) -> T? {
        guard let text = value(long) else { return nil }
        return try Arguments.read(text, as: type, what: "--\(long)")
    }

    /// Every value of `--long` read as a `T`.
    public func values<T: LosslessStringConvertible>(_ long: String, as type: T.Type) throws(UsageError) -> [T] {
        var result: [T] = []
        for text in values(long) { result.append(try Arguments.read(text, as: type, what: "--\(long)")) }
        return result
    }

    /// The argument `name`, when given.
    public func argument(_ name: String) -> String? { words[name]?.first }

    /// Every word of a repeating argument.
    public func arguments(_ name: String) -> [String] { words[name] ?? [] }

    private static func read<T: LosslessStringConvertible>(_ text: String, as type: T.Type, what: String) throws(UsageError) -> T {
        guard let value = T(text) else {
            let kind = T.self is any FloatingPoint.Type ? "a number" : "a whole number in range"
            throw UsageError("\(what) \(text) is not \(kind)")
        }
        return value
    }
}
